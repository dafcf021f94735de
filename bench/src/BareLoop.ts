/**
 * The same model trained by a bare TF.js loop: Variables, `tf.variableGrads`, the optim plugin's
 * Adam update called as a plain function (the same numerics as the framework, fused kernel
 * included) and `assign`, with no Effect, no Trainer/TrainLoop, no events and no NaN guard. The
 * framework's overhead is measured against this.
 */
import "@rekindle/engine/Gradients"
import type { Key, Optimizer } from "@rekindle/core"
import type { BatchTensors, Transformer } from "@rekindle/model"
import { adam } from "@rekindle/plugin-optim"
import * as tf from "@tensorflow/tfjs-core"

/** A bare training loop over a model; `step` returns the loss (one scalar read back). */
export const make = (model: Transformer.Transformer, key: Key.Key, lr = 1e-3) => {
  const initial = model.init(key)
  const names = Object.keys(initial).sort()
  const vars = names.map((n, i) => tf.variable(initial[n]!, true, `bare${i}/${n}`))
  for (const n of names) initial[n]!.dispose()
  const params: Record<string, tf.Variable> = Object.fromEntries(names.map((n, i) => [n, vars[i]!]))
  const optimizer = adam({ lr })
  let state: Optimizer.OptState = tf.tidy(() => optimizer.init(params) as unknown as tf.TensorContainer) as unknown as Optimizer.OptState
  const tensorsOf = (s: Optimizer.OptState) => Object.values(s.slots).flatMap((m) => Object.values(m))
  const step = (batch: BatchTensors): number => {
    const out = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => model.loss(params, batch), vars)
      const byName = Object.fromEntries(names.map((n, i) => [n, grads[vars[i]!.name]!]))
      const [updates, next] = optimizer.update(byName, state, params)
      for (const n of names) params[n]!.assign(tf.add(params[n]!, updates[n]!))
      return { value, next } as unknown as tf.TensorContainer
    }) as unknown as { value: tf.Scalar; next: Optimizer.OptState }
    tf.dispose(tensorsOf(state))
    state = out.next
    const loss = out.value.dataSync()[0]!
    out.value.dispose()
    return loss
  }
  return { step, dispose: () => tf.dispose([...vars, ...tensorsOf(state)]) }
}
