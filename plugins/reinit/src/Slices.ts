/**
 * The neuron slices a reinitializer rewrites: for every FF layer with chosen neurons, each slice
 * (W_in column, W_out row, bias entry, gate column) with the chosen indices. `rewrite` folds new
 * slice values into the parameters, building new tensors with `Slices.replaceAlong`.
 */
import { Bug, Key, type ReinitContext, Slices, type Topology } from "@rekindle/core"
import type * as tf from "@tensorflow/tfjs-core"

/** One slice of one layer to rewrite. */
export interface Target {
  /** Position of the layer in the topology. */
  readonly position: number
  readonly layer: Topology.FFLayer
  readonly slice: Topology.NeuronSlice
  readonly indices: ReadonlyArray<number>
  /** The key of this layer: `Key.fold(ctx.key, position)`. */
  readonly key: Key.Key
}

/** Every slice of every layer with at least one chosen neuron. */
export const targets = (ctx: ReinitContext): Array<Target> =>
  ctx.topology.layers.flatMap((layer, position) => {
    const indices = ctx.selection.layers[position]?.indices ?? []
    if (indices.length === 0) return []
    const key = Key.fold(ctx.key, position)
    return layer.slices.map((slice) => ({ position, layer, slice, indices, key }))
  })

/** A parameter of the context, or a clear error naming it. */
export const paramOf = (ctx: ReinitContext, name: string): tf.Tensor => {
  const t = ctx.params[name]
  if (t === undefined) throw new Bug(`reinit: parameter "${name}" is missing from the context`)
  return t
}

/** New values for one target: slice-shaped (`slices`) or full-shape, of which only the chosen slices are used (`full`). */
export type Values = { readonly slices: tf.Tensor } | { readonly full: tf.Tensor }

/**
 * Replacement tensors: for each target, `values(target, current)` gives the new values of its
 * chosen slices; parameters no target touches are not returned.
 */
export const rewrite = (
  ctx: ReinitContext,
  values: (target: Target, current: tf.Tensor) => Values
): Record<string, tf.Tensor> => {
  const out: Record<string, tf.Tensor> = {}
  for (const t of targets(ctx)) {
    const current = out[t.slice.param] ?? paramOf(ctx, t.slice.param)
    const v = values(t, current)
    out[t.slice.param] = "full" in v
      ? Slices.mergeAlong(current, t.slice.axis, t.indices, v.full)
      : Slices.replaceAlong(current, t.slice.axis, t.indices, v.slices)
  }
  return out
}
