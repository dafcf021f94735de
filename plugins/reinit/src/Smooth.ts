/**
 * `reinit/smooth`: the chosen neurons get fresh init weights (as `reinit/initial`) but the host
 * keeps their old weights frozen and blends each FF layer's output as (1 − α)·old + α·new per
 * neuron, α rising linearly from 0 at the reset to 1 after `steps` optimizer steps; the network's
 * function is unchanged at the moment of the reset, and the blend state is dropped when α = 1.
 * Only the new weights are trained (their gradient is scaled by α).
 */
import type { Reinitializer } from "@rekindle/core"
import { initial } from "./Initial.ts"

/** Options of `smooth`. */
export interface SmoothOptions {
  /** Steps over which α rises from 0 to 1 (≥ 1). */
  readonly steps: number
}

/** `reinit/smooth`. */
export const smooth = (options: SmoothOptions): Reinitializer => ({ ...initial(), blend: { steps: options.steps } })
