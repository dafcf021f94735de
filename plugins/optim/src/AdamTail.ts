/**
 * `scale_by_adam -> [add_decayed_weights] -> scale_by_learning_rate` as one transform, the tail of
 * the `adam` and `adamw` chains. Its `apply` returns the new parameters `p + u` instead: through
 * the kernel `RekindleAdamWApply` where registered (the add in the same pass, same bits as a
 * separate add), else the update then `tf.add`. Where the current backend registers the kernel `RekindleAdamW`
 * (the wasm engine does), each parameter's final update `-lr·(adam(g) + wd·p)` and its four new
 * slots come from one kernel (one pass over memory instead of `RekindleAdam` plus up to three
 * TF.js kernels: the decay's multiply and add, the learning rate's multiply); it computes the same
 * float32 operations in the same order as the three blocks, so the results are the same bit for
 * bit. Elsewhere the three blocks run in turn. Same slots and name as the three blocks chained.
 */
import * as tf from "@tensorflow/tfjs-core"
import { Bug, type Optimizer } from "@rekindle/core"
import { adamSlots, scaleByAdam, type AdamOptions } from "./Adam.ts"
import { scaleByLearningRate } from "./LearningRate.ts"
import { chain, slot, type Transform } from "./Transform.ts"
import { addDecayedWeights, type DecayMask, decays } from "./WeightDecay.ts"

/** The fused tail kernel's name (registered by `@rekindle/engine`'s wasm overrides). */
export const fusedTailKernelName = "RekindleAdamW"

/** Whether the current backend has the fused tail kernel. */
export const hasFusedTailKernel = (): boolean => tf.getKernel(fusedTailKernelName, tf.getBackend()) !== undefined

/** The fused tail kernel that also adds the update to the parameter (`apply`). */
export const fusedApplyKernelName = "RekindleAdamWApply"

/** Decoupled weight decay of the tail (absent: plain Adam). */
export interface TailDecay {
  readonly weightDecay: number
  readonly mask: DecayMask
}

/** Adam, the optional decoupled weight decay and the learning-rate scale as one transform. */
export const adamWithTail = (
  options: AdamOptions,
  decay: TailDecay | undefined,
  schedule: Optimizer.Schedule | number
): Transform => {
  const b1 = options.b1 ?? 0.9
  const b2 = options.b2 ?? 0.999
  const eps = options.eps ?? 1e-8
  const lr = typeof schedule === "number" ? () => schedule : schedule
  const composed = chain(
    scaleByAdam({ b1, b2, eps }),
    ...(decay === undefined ? [] : [addDecayedWeights(decay.weightDecay, decay.mask)]),
    scaleByLearningRate(schedule)
  )
  /** `update`, then `params + updates` (what the host would add; the `apply` fallbacks). */
  const withAdd = (update: Transform["update"]): Transform["update"] => (updates, slots, params, count) => {
    const [u, next] = update(updates, slots, params, count)
    const out: Record<string, tf.Tensor> = {}
    for (const name of Object.keys(u)) out[name] = tf.add(param(params, name), u[name]!)
    return [out, next]
  }
  /** One fused kernel per parameter; with `apply` its output is the new parameter. */
  const fused = (apply: boolean): Transform["update"] => (updates, slots, params, count) => {
    const kernel = apply ? fusedApplyKernelName : fusedTailKernelName
    if (tf.getKernel(kernel, tf.getBackend()) === undefined) {
      return (apply ? withAdd(fused(false)) : composed.update)(updates, slots, params, count)
    }
    const scale = -lr(count)
    const out: Record<string, tf.Tensor> = {}
    const next: Record<string, Record<string, tf.Tensor>> = { [adamSlots.mu]: {}, [adamSlots.nu]: {}, [adamSlots.bc1]: {}, [adamSlots.bc2]: {} }
    for (const name of Object.keys(updates)) {
      const g = updates[name]!
      const p = params[name]
      if (decay !== undefined && decay.weightDecay !== 0 && p === undefined) {
        throw new Bug(`add_decayed_weights: no parameter "${name}" for its update`)
      }
      const mu = slot(slots, adamSlots.mu, name)
      const nu = slot(slots, adamSlots.nu, name)
      const bc1 = slot(slots, adamSlots.bc1, name)
      const bc2 = slot(slots, adamSlots.bc2, name)
      const decayed = decay !== undefined && decay.weightDecay !== 0 && decays(decay.mask, name, p!)
      const inputs = [g, mu, nu, bc1, bc2, ...(decayed ? [p!] : [])]
      if (apply) inputs.push(param(params, name))
      if (!inputs.every((t) => t.dtype === "float32" && t.size === g.size)) {
        // mismatched slots (none in practice): this parameter through the three blocks
        const [u, s] = (apply ? withAdd(composed.update) : composed.update)({ [name]: g }, slots, p === undefined ? {} : { [name]: p }, count)
        out[name] = u[name]!
        for (const k of Object.keys(next)) next[k]![name] = s[k]![name]!
        continue
      }
      const [m, v, c1, c2, u] = tf.engine().runKernel(
        kernel,
        { g, mu, nu, bc1, bc2, ...(decayed || apply ? { p: p! } : {}) } as unknown as tf.NamedTensorMap,
        { b1, b2, eps, scale, ...(decayed ? { wd: decay.weightDecay } : {}) }
      ) as unknown as Array<tf.Tensor>
      out[name] = u!
      next[adamSlots.mu]![name] = m!
      next[adamSlots.nu]![name] = v!
      next[adamSlots.bc1]![name] = c1!
      next[adamSlots.bc2]![name] = c2!
    }
    return [out, next]
  }
  return { ...composed, update: fused(false), apply: fused(true) }
}

/** The parameter `name` of `params`, failing loudly when the host did not pass it. */
const param = (params: Record<string, tf.Tensor>, name: string): tf.Tensor => {
  const p = params[name]
  if (p === undefined) throw new Bug(`adam: no parameter "${name}" to apply its update to`)
  return p
}
