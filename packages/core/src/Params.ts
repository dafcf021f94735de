/**
 * Named parameter maps: every parameter, optimizer slot and gradient is addressed by the
 * parameter's name (e.g. `layers.0.ff.win`), never by position.
 */
import type * as tf from "@tensorflow/tfjs-core"
import { Bug } from "./Errors.ts"

/** Tensors keyed by parameter name. */
export type ParamMap = Readonly<Record<string, tf.Tensor>>

/** Shapes keyed by parameter name. */
export type ShapeMap = Readonly<Record<string, ReadonlyArray<number>>>

/** Applies `f` to every entry, keeping the names. */
export const map = (params: ParamMap, f: (t: tf.Tensor, name: string) => tf.Tensor): Record<string, tf.Tensor> => {
  const out: Record<string, tf.Tensor> = {}
  for (const name of Object.keys(params)) out[name] = f(params[name]!, name)
  return out
}

/** Combines two maps with the same names entry by entry. Missing names in `b` are an error. */
export const zipWith = (
  a: ParamMap,
  b: ParamMap,
  f: (x: tf.Tensor, y: tf.Tensor, name: string) => tf.Tensor
): Record<string, tf.Tensor> => {
  const out: Record<string, tf.Tensor> = {}
  for (const name of Object.keys(a)) {
    const y = b[name]
    if (y === undefined) throw new Bug(`ParamMap.zipWith: "${name}" missing from the second map`)
    out[name] = f(a[name]!, y, name)
  }
  return out
}

/** Total number of scalars in a map. */
export const size = (params: ParamMap): number =>
  Object.values(params).reduce((n, t) => n + t.size, 0)

/** Every tensor of a map, in name order (for disposal). */
export const tensors = (params: ParamMap): Array<tf.Tensor> =>
  Object.keys(params).sort().map((k) => params[k]!)
