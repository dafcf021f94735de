/**
 * Applies one stage's reinitializer to the chosen neurons: runs it in `tf.tidy`, checks that it
 * touched only the chosen slices, starts blend state for smooth reinits (before the values are
 * overwritten), assigns the Variables, and applies the stage's optimizer-state policy to the same
 * slices through `Slots.resetSlices` (any optimizer: slots carry their roles), checking the result.
 */
import { type Key, type Optimizer, type Reinitializer as Reinit, type Selection, Slots, type Topology } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import type { Stage } from "./Stage.ts"
import type { Blends } from "./Blends.ts"
import * as Invariants from "./Invariants.ts"

/** The neuron slices of a selection: every slice parameter of every layer with chosen neurons. */
export const neuronSlices = (topology: Topology.Topology, selection: Selection.Selection): Array<Slots.NeuronSlice> =>
  topology.layers.flatMap((l, p) => {
    const indices = selection.layers[p]?.indices ?? []
    return indices.length === 0 ? [] : l.slices.map((s) => ({ param: s.param, axis: s.axis, indices }))
  })

/** Everything one reinitialization needs. */
export interface ReinitInput {
  readonly step: number
  readonly stage: Pick<Stage, "index" | "reinit" | "optimizerState">
  readonly topology: Topology.Topology
  readonly params: Readonly<Record<string, tf.Variable>>
  readonly selection: Selection.Selection
  readonly key: Key.Key
  readonly initial: (param: string, key: Key.Key) => tf.Tensor
  readonly opt: Optimizer.OptState
  readonly optimizer: Optimizer.Optimizer
  readonly blends: Blends
}

/** Replaces the chosen neurons' slices; returns the optimizer state after the policy (the input state when `keep`). */
export const reinitialize = (input: ReinitInput): Optimizer.OptState => {
  const { step, stage, topology, params, selection } = input
  const where = { step, stage: stage.index }
  const reinit: Reinit = stage.reinit.reinitializer
  const values = tf.tidy(() =>
    reinit.apply({ step, params, topology, selection, key: input.key, initial: input.initial }) as unknown as tf.TensorContainer
  ) as unknown as Record<string, tf.Tensor>
  try {
    Invariants.checkReinit(where, stage.reinit.id, topology, selection, params, values, reinit.slicesOnly)
    if (reinit.blend !== undefined) {
      selection.layers.forEach((l, p) => input.blends.add(p, l.indices, params, step, reinit.blend!.steps))
    }
    for (const name of Object.keys(values)) params[name]!.assign(values[name]!)
  } finally {
    const own = new Set<tf.Tensor>(Object.values(params))
    for (const t of Object.values(values)) if (!own.has(t)) t.dispose()
  }
  const policy = stage.optimizerState
  if (policy === "keep") return input.opt
  const slices = neuronSlices(topology, selection)
  const next = Slots.resetSlices(input.opt, input.optimizer, slices, policy)
  Invariants.checkSlots(where, input.optimizer, policy, slices, input.opt, next)
  return next
}
