/**
 * The same model trained by a bare TF.js loop: Variables, `tf.variableGrads`, a hand-written Adam
 * and `assign`, with no Effect, no events and no optimizer abstraction. The framework's overhead
 * is measured against this.
 */
import "@rekindle/engine/Gradients"
import type { Key } from "@rekindle/core"
import type { BatchTensors, Transformer } from "@rekindle/model"
import * as tf from "@tensorflow/tfjs-core"

/** A bare training loop over a model; `step` returns nothing and reads nothing back but the loss. */
export const make = (model: Transformer.Transformer, key: Key.Key, lr = 1e-3) => {
  const initial = model.init(key)
  const names = Object.keys(initial).sort()
  const vars = names.map((n, i) => tf.variable(initial[n]!, true, `bare${i}/${n}`))
  for (const n of names) initial[n]!.dispose()
  const params: Record<string, tf.Variable> = Object.fromEntries(names.map((n, i) => [n, vars[i]!]))
  let m: Array<tf.Tensor> = vars.map((v) => tf.zerosLike(v))
  let v2: Array<tf.Tensor> = vars.map((v) => tf.zerosLike(v))
  let t = 0
  const b1 = 0.9, b2 = 0.999, eps = 1e-8
  const step = (batch: BatchTensors): number => {
    t++
    const c1 = 1 - b1 ** t, c2 = 1 - b2 ** t
    const out = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => model.loss(params, batch), vars)
      const nm: Array<tf.Tensor> = [], nv: Array<tf.Tensor> = []
      vars.forEach((p, i) => {
        const g = grads[p.name]!
        const mi = tf.add(tf.mul(m[i]!, b1), tf.mul(g, 1 - b1))
        const vi = tf.add(tf.mul(v2[i]!, b2), tf.mul(tf.square(g), 1 - b2))
        const upd = tf.div(tf.mul(mi, lr / c1), tf.add(tf.sqrt(tf.div(vi, c2)), eps))
        p.assign(tf.sub(p, upd))
        nm.push(mi)
        nv.push(vi)
      })
      return { value, nm, nv }
    })
    tf.dispose([...m, ...v2])
    m = out.nm
    v2 = out.nv
    const loss = out.value.dataSync()[0]!
    out.value.dispose()
    return loss
  }
  return { step, dispose: () => tf.dispose([...vars, ...m, ...v2]) }
}
