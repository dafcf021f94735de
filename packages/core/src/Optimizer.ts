/**
 * Optimizers in the Optax style: a pure `init`/`update` pair over named parameters. State is a
 * step count plus parameter-shaped slots keyed by parameter name, so a reset of neuron i can zero
 * the matching slices of every slot without knowing which optimizer made them. Both functions are
 * synchronous TF.js code; the host runs them inside `tf.tidy` and assigns the parameters.
 */
import type * as tf from "@tensorflow/tfjs-core"
import type { ParamMap } from "./Params.ts"

/**
 * What a slot means to a neuron reset: `moment` slots (Adam's m and v, SGD's momentum) are set to
 * `reset` by `zero-moments`; `step` slots (per-element bias-correction state) are set to `reset`
 * only by `zero-moments-and-step`, restarting bias correction for those elements alone.
 */
export interface SlotSpec {
  readonly role: "moment" | "step"
  /** The value a reset writes into the slice (0 for moments, 1 for running beta powers, ...). */
  readonly reset: number
}

/** Optimizer state: a global step count plus named slots, each a ParamMap with the params' names. */
export interface OptState {
  readonly count: number
  readonly slots: Readonly<Record<string, ParamMap>>
}

/** A gradient transformation: `update` maps gradients to additive updates (params += updates). */
export interface Optimizer {
  /** Human-readable name, e.g. `adamw(lr=warmup-cosine, wd=0.01)`. */
  readonly name: string
  /** Slot names this optimizer keeps, with their reset semantics. */
  readonly slots: Readonly<Record<string, SlotSpec>>
  readonly init: (params: ParamMap) => OptState
  /** Returns the updates to add to the params and the next state. Pure: disposes nothing. */
  readonly update: (grads: ParamMap, state: OptState, params: ParamMap) => readonly [ParamMap, OptState]
  /**
   * Optional: `update` with the updates already added, i.e. the new parameters `params + updates`
   * (bit for bit what the host's own add would give) and the next state, where the optimizer can
   * fuse the add into its last pass. Hosts that add nothing else to the updates may call it.
   */
  readonly apply?: (grads: ParamMap, state: OptState, params: ParamMap) => readonly [ParamMap, OptState]
  /** The learning rate used at a given step count (for events and schedules). */
  readonly learningRate: (count: number) => number
}

/** A learning-rate schedule: step count -> learning rate. */
export type Schedule = (count: number) => number

/** Every tensor held by a state (for disposal and leak checks). */
export const stateTensors = (state: OptState): Array<tf.Tensor> =>
  Object.keys(state.slots)
    .sort()
    .flatMap((s) => Object.keys(state.slots[s]!).sort().map((p) => state.slots[s]![p]!))
