/**
 * Slot surgery for neuron recycling: `resetSlices` writes each slot's declared `reset` value into
 * given slices (neuron rows/columns) of the slot tensors, choosing slots by role from the
 * recycling policy. It works for any `Optimizer`, since slots carry their roles. Pure: builds new
 * tensors with one `Slices.fillerAlong` per parameter for all its slots (every element of a reset
 * slice is overwritten, so NaN/Inf there are cleared too) and never touches the old state, which
 * the caller disposes.
 */
import type * as Optimizer from "./Optimizer.ts"
import * as tf from "@tensorflow/tfjs-core"
import { Bug } from "./Errors.ts"
import * as Slices from "./Slices.ts"

/** What recycling does to the optimizer slots of reset neurons. */
export type Policy = "keep" | "zero-moments" | "zero-moments-and-step"

/** One slice of one parameter: `indices` along `axis` (axis 1 = columns of W_in, axis 0 = rows of W_out). */
export interface NeuronSlice {
  readonly param: string
  readonly axis: 0 | 1
  readonly indices: ReadonlyArray<number>
}

/** The slot roles a policy resets. */
export const rolesOf = (policy: Policy): ReadonlySet<Optimizer.SlotSpec["role"]> =>
  new Set(policy === "keep" ? [] : policy === "zero-moments" ? ["moment"] : ["moment", "step"])

/** Throws a Bug unless every slice fits the shape of its parameter. */
const checkSlices = (shape: ReadonlyArray<number>, slices: ReadonlyArray<NeuronSlice>): void => {
  for (const s of slices) {
    const n = shape[s.axis]
    if (n === undefined) throw new Bug(`resetSlices: parameter "${s.param}" has rank ${shape.length}, no axis ${s.axis}`)
    for (const i of s.indices) {
      if (!Number.isInteger(i) || i < 0 || i >= n) {
        throw new Bug(`resetSlices: index ${i} out of range [0, ${n}) on axis ${s.axis} of "${s.param}"`)
      }
    }
  }
}

/**
 * A new state whose slots hold `reset` on the given slices for every slot whose role the policy
 * resets, and the old values everywhere else. Untouched slot tensors are clones (shared storage,
 * no copy), so disposing the old state never frees the new one. The count is unchanged.
 */
export const resetSlices = (
  state: Optimizer.OptState,
  optimizer: Pick<Optimizer.Optimizer, "slots">,
  neuronSlices: ReadonlyArray<NeuronSlice>,
  policy: Policy
): Optimizer.OptState => {
  const roles = rolesOf(policy)
  const byParam = new Map<string, Array<NeuronSlice>>()
  for (const s of neuronSlices) byParam.set(s.param, [...(byParam.get(s.param) ?? []), s])
  const slots = tf.tidy(() => {
    /** Per parameter (and shape: slots are parameter-shaped), its slices checked once and their filler (one mask on backends without the kernel). */
    const fillers = new Map<string, (t: tf.Tensor, value: number) => tf.Tensor>()
    const fillerOf = (param: string, shape: ReadonlyArray<number>, slices: ReadonlyArray<NeuronSlice>) => {
      const key = `${param}\u0000${shape.join()}`
      let fill = fillers.get(key)
      if (fill === undefined) {
        checkSlices(shape, slices)
        fill = Slices.fillerAlong(slices)
        fillers.set(key, fill)
      }
      return fill
    }
    const out: Record<string, Record<string, tf.Tensor>> = {}
    for (const slotName of Object.keys(state.slots)) {
      const spec = optimizer.slots[slotName]
      if (spec === undefined) throw new Bug(`resetSlices: state slot "${slotName}" is not declared by the optimizer`)
      const slot = state.slots[slotName]!
      const reset = roles.has(spec.role)
      if (reset) {
        for (const param of byParam.keys()) {
          if (slot[param] === undefined) throw new Bug(`resetSlices: slot "${slotName}" has no parameter "${param}"`)
        }
      }
      const next: Record<string, tf.Tensor> = {}
      for (const param of Object.keys(slot)) {
        const old = slot[param]!
        const slices = byParam.get(param)
        if (!reset || slices === undefined) {
          next[param] = tf.clone(old)
          continue
        }
        next[param] = fillerOf(param, old.shape, slices)(old, spec.reset)
      }
      out[slotName] = next
    }
    return out
  })
  return { count: state.count, slots }
}
