/**
 * `scaleByAdam`: Adam's moment estimates with per-element bias correction. Instead of one global
 * step count, every element carries its own bias-correction denominators `1 - b1^t` and
 * `1 - b2^t` (slots `adam.bc1`, `adam.bc2`, role `step`, reset 0), updated as
 * `bc <- bc * b + (1 - b)`. Resetting them for a neuron (policy `zero-moments-and-step`) restarts
 * bias correction for that neuron alone: its next update is exactly a first-step Adam update.
 * Storing `1 - b^t` rather than the running power `b^t` costs the same two ops per step and never
 * drifts into float32 subnormals (0.9^t is subnormal after ~830 steps; subnormal arithmetic is
 * slow on x86).
 *
 * Fused path: where the current backend registers the kernel `RekindleAdam` (the wasm engine does),
 * the five new tensors of a parameter come from that one kernel (one pass over memory instead of
 * 17 kernels); it computes the same float32 operations in the same order, so results are the same
 * bit for bit. Elsewhere (cpu, native backends) the op-by-op composition below runs.
 */
import { Params } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import { slot, type Transform } from "./Transform.ts"

/** Adam hyper-parameters. */
export interface AdamOptions {
  readonly b1?: number
  readonly b2?: number
  readonly eps?: number
}

/** The fused kernel's name (registered by `@rekindle/engine`'s wasm overrides). */
export const fusedKernelName = "RekindleAdam"

/** Whether the current backend has the fused Adam kernel. */
export const hasFusedKernel = (): boolean => tf.getKernel(fusedKernelName, tf.getBackend()) !== undefined

/** The op-by-op rule for one parameter: [update, mu, nu, bc1, bc2]. */
export const adamComposed = (
  g: tf.Tensor, mu: tf.Tensor, nu: tf.Tensor, bc1: tf.Tensor, bc2: tf.Tensor, b1: number, b2: number, eps: number
): [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor] => {
  const m = tf.add(tf.mul(mu, b1), tf.mul(g, 1 - b1))
  const v = tf.add(tf.mul(nu, b2), tf.mul(tf.square(g), 1 - b2))
  const c1 = tf.add(tf.mul(bc1, b1), 1 - b1)
  const c2 = tf.add(tf.mul(bc2, b2), 1 - b2)
  return [tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), eps)), m, v, c1, c2]
}

/** The same rule through the fused kernel (float32 inputs of one shape). */
const adamFused = (
  g: tf.Tensor, mu: tf.Tensor, nu: tf.Tensor, bc1: tf.Tensor, bc2: tf.Tensor, b1: number, b2: number, eps: number
): [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor] => {
  const [m, v, c1, c2, u] = tf.engine().runKernel(
    fusedKernelName,
    { g, mu, nu, bc1, bc2 } as unknown as tf.NamedTensorMap,
    { b1, b2, eps }
  ) as unknown as Array<tf.Tensor>
  return [u!, m!, v!, c1!, c2!]
}

/** Slot names of `scaleByAdam`. */
export const adamSlots = {
  mu: "adam.mu",
  nu: "adam.nu",
  bc1: "adam.bc1",
  bc2: "adam.bc2"
} as const

/**
 * Adam's update direction `m̂ / (sqrt(v̂) + eps)` with `m̂ = m / (1 - b1^t)`, `v̂ = v / (1 - b2^t)`
 * per element (no learning rate, no sign: chain `scaleByLearningRate` after it).
 */
export const scaleByAdam = (options: AdamOptions = {}): Transform => {
  const b1 = options.b1 ?? 0.9
  const b2 = options.b2 ?? 0.999
  const eps = options.eps ?? 1e-8
  return {
    name: `scale_by_adam(b1=${b1}, b2=${b2}, eps=${eps})`,
    slots: {
      [adamSlots.mu]: { role: "moment", reset: 0 },
      [adamSlots.nu]: { role: "moment", reset: 0 },
      [adamSlots.bc1]: { role: "step", reset: 0 },
      [adamSlots.bc2]: { role: "step", reset: 0 }
    },
    init: (params) => {
      const zeros = () => Params.map(params, (p) => tf.zerosLike(p))
      return { [adamSlots.mu]: zeros(), [adamSlots.nu]: zeros(), [adamSlots.bc1]: zeros(), [adamSlots.bc2]: zeros() }
    },
    update: (updates, slots) => {
      const out: Record<string, tf.Tensor> = {}
      const mu: Record<string, tf.Tensor> = {}
      const nu: Record<string, tf.Tensor> = {}
      const bc1: Record<string, tf.Tensor> = {}
      const bc2: Record<string, tf.Tensor> = {}
      const fused = hasFusedKernel()
      for (const name of Object.keys(updates)) {
        const g = updates[name]!
        const args = [
          g,
          slot(slots, adamSlots.mu, name),
          slot(slots, adamSlots.nu, name),
          slot(slots, adamSlots.bc1, name),
          slot(slots, adamSlots.bc2, name)
        ] as const
        const sameShape = args.every((t) => t.dtype === "float32" && t.size === g.size)
        const [u, m, v, c1, c2] = (fused && sameShape ? adamFused : adamComposed)(...args, b1, b2, eps)
        out[name] = u
        mu[name] = m
        nu[name] = v
        bc1[name] = c1
        bc2[name] = c2
      }
      return [out, { [adamSlots.mu]: mu, [adamSlots.nu]: nu, [adamSlots.bc1]: bc1, [adamSlots.bc2]: bc2 }]
    }
  }
}
