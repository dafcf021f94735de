/** Shared test fixtures: tiny deterministic params and gradients, and a step runner. */
import { Optimizer } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import { tidy } from "@rekindle/engine"

/** Shapes of the tiny model: an FF block (win, bin, wout) and a LayerNorm gain. */
export const shapes: Record<string, Array<number>> = {
  "ff.win": [3, 5],
  "ff.bin": [5],
  "ff.wout": [5, 3],
  "ln.gain": [3]
}

/** Deterministic pseudo-random values in [-1, 1) (a fixed hash of seed and index). */
export const values = (n: number, seed: number): Array<number> =>
  Array.from({ length: n }, (_, i) => {
    const x = Math.sin((i + 1) * 12.9898 + seed * 78.233) * 43758.5453
    return 2 * (x - Math.floor(x)) - 1
  })

const size = (shape: ReadonlyArray<number>) => shape.reduce((a, b) => a * b, 1)

/** Initial parameter values by name. */
export const initialValues = (): Record<string, Array<number>> =>
  Object.fromEntries(Object.entries(shapes).map(([n, s], k) => [n, values(size(s), 100 + k)]))

/** Gradient values for step t by name. */
export const gradValues = (t: number): Record<string, Array<number>> =>
  Object.fromEntries(Object.entries(shapes).map(([n, s], k) => [n, values(size(s), 7 * t + k)]))

/** Tensors from values, in the given name order. */
export const toTensors = (vals: Record<string, Array<number>>, order = Object.keys(shapes)): Record<string, tf.Tensor> =>
  Object.fromEntries(order.map((n) => [n, tf.tensor(vals[n]!, shapes[n]!)]))

/** Flat values of every tensor in a map. */
export const read = (ts: Readonly<Record<string, tf.Tensor>>): Record<string, Array<number>> =>
  Object.fromEntries(Object.entries(ts).map(([n, t]) => [n, Array.from(t.dataSync())]))

/** Disposes the tensors of a state that the next state does not share. */
export const disposeState = (old: Optimizer.OptState, next?: Optimizer.OptState) => {
  const keep = new Set(next === undefined ? [] : Optimizer.stateTensors(next))
  for (const t of Optimizer.stateTensors(old)) if (!keep.has(t)) t.dispose()
}

/**
 * Runs `steps` optimizer steps from the fixture's initial values with the fixture's gradients
 * (grads(t) independent of the params) and returns the final param values and state.
 */
export const run = (
  optimizer: Optimizer.Optimizer,
  steps: number,
  options: {
    order?: Array<string>
    grads?: (t: number, params: Record<string, tf.Tensor>) => Record<string, tf.Tensor>
    /** Step with `optimizer.apply` (new params from the optimizer) instead of `update` + add. */
    apply?: boolean
  } = {}
) => {
  let params = toTensors(initialValues(), options.order)
  let state = tidy(() => optimizer.init(params))
  for (let t = 0; t < steps; t++) {
    const next = tidy(() => {
      const grads = options.grads?.(t, params) ?? toTensors(gradValues(t), options.order)
      if (options.apply === true) {
        const [p, s] = optimizer.apply!(grads, state, params)
        return { p, s }
      }
      const [updates, s] = optimizer.update(grads, state, params)
      const p = Object.fromEntries(Object.keys(params).map((n) => [n, tf.add(params[n]!, updates[n]!)]))
      return { p, s }
    })
    for (const t of Object.values(params)) t.dispose()
    disposeState(state, next.s)
    params = next.p
    state = next.s
  }
  return { params, state }
}

/** Disposes everything `run` returned. */
export const disposeRun = (r: { params: Record<string, tf.Tensor>; state: Optimizer.OptState }) => {
  for (const t of Object.values(r.params)) t.dispose()
  disposeState(r.state)
}

/** Expects two value maps to agree to a relative-or-absolute tolerance; returns the worst error. */
export const maxError = (a: Record<string, Array<number>>, b: Record<string, Array<number>>): number => {
  let worst = 0
  for (const n of Object.keys(a)) {
    const x = a[n]!, y = b[n]!
    if (x.length !== y.length) return Infinity
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!) / Math.max(1, Math.abs(y[i]!)))
  }
  return worst
}
