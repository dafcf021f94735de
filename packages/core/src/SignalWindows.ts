/**
 * Accumulation windows (`Signal.Window`) over a signal's observations, on device: one `[dFF]`
 * tensor per FF layer plus a count. `last` keeps the latest observation, `mean` their sum (read as
 * sum / count and cleared by the read), `ema` v ← decay·v + (1 − decay)·x from the first
 * observation. Every read before the first observation gives zeros. The state round-trips through
 * JSON exactly (float32 values written as numbers), so a resumed run continues bit for bit.
 */
import type * as Signal from "./Signal.ts"
import * as tf from "@tensorflow/tfjs-core"

/** A window's state: per-layer tensors (owned by whoever holds the state) and the observation count. */
export interface Accumulator {
  readonly values: ReadonlyArray<tf.Tensor1D> | undefined
  readonly count: number
}

/** The state as JSON. */
export interface AccumulatorJson {
  readonly count: number
  readonly values: ReadonlyArray<ReadonlyArray<number>> | null
}

/** No observation yet. */
export const empty: Accumulator = { values: undefined, count: 0 }

/**
 * The state after one more observation `x` (per layer). New tensors are created (the caller
 * keeps them and disposes the previous state's); `x` itself may be returned as the state.
 */
export const fold = (window: Signal.Window, acc: Accumulator, x: ReadonlyArray<tf.Tensor1D>): Accumulator => {
  if (acc.values === undefined || window.kind === "last") return { values: x, count: acc.count + 1 }
  const prev = acc.values
  if (window.kind === "mean") return { values: x.map((v, p) => tf.add(prev[p]!, v)), count: acc.count + 1 }
  const d = window.decay
  return { values: x.map((v, p) => tf.add(tf.mul(prev[p]!, d), tf.mul(v, 1 - d))), count: acc.count + 1 }
}

/** What a part reads now, per layer (zeros of each width before the first observation). */
export const read = (window: Signal.Window, acc: Accumulator, widths: ReadonlyArray<number>): Array<tf.Tensor1D> => {
  if (acc.values === undefined) return widths.map((n) => tf.zeros([n]) as tf.Tensor1D)
  if (window.kind === "mean") return acc.values.map((v) => tf.div(v, acc.count) as tf.Tensor1D)
  return acc.values.map((v) => tf.clone(v))
}

/** Whether a read clears the window (`mean`: the mean since the part last read). */
export const clearsOnRead = (window: Signal.Window): boolean => window.kind === "mean"

/** The state as JSON (reads the tensors back). */
export const toJson = (acc: Accumulator): AccumulatorJson => ({
  count: acc.count,
  values: acc.values === undefined ? null : acc.values.map((v) => Array.from(v.dataSync()))
})

/** The state from JSON (new tensors, owned by the caller). */
export const fromJson = (json: AccumulatorJson): Accumulator => ({
  count: json.count,
  values: json.values === null ? undefined : json.values.map((v) => tf.tensor1d(Float32Array.from(v), "float32"))
})

/** Disposes the state's tensors. */
export const dispose = (acc: Accumulator): void => {
  for (const v of acc.values ?? []) v.dispose()
}
