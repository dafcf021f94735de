/**
 * `addDecayedWeights`: decoupled weight decay (AdamW), `u <- u + wd * p`, placed before
 * `scaleByLearningRate` so the decay is scaled by the (scheduled) learning rate like PyTorch's
 * AdamW: `p <- p - lr * (adam(g) + wd * p)`. Which parameters decay is a mask; the default,
 * `"matrices"`, decays every parameter of rank >= 2 (weight matrices and embeddings) and leaves
 * rank-1 parameters (biases, LayerNorm gains and shifts) alone, which is what most AdamW users
 * expect (BERT, GPT-2, HF Trainer all exclude biases and LayerNorm weights).
 */
import * as tf from "@tensorflow/tfjs-core"
import type { Transform } from "./Transform.ts"
import { Bug } from "@rekindle/core"

/** Which parameters decay: `matrices` (rank >= 2), `all`, or a predicate on name and tensor. */
export type DecayMask = "matrices" | "all" | ((name: string, param: tf.Tensor) => boolean)

/** Whether `mask` decays the parameter `name`. */
export const decays = (mask: DecayMask, name: string, param: tf.Tensor): boolean =>
  mask === "all" ? true : mask === "matrices" ? param.rank >= 2 : mask(name, param)

/** Adds `weightDecay * param` to the updates of the masked parameters (others pass through). */
export const addDecayedWeights = (weightDecay: number, mask: DecayMask = "matrices"): Transform => ({
  name: `add_decayed_weights(${weightDecay}${typeof mask === "string" ? `, ${mask}` : ""})`,
  slots: {},
  init: () => ({}),
  update: (updates, _slots, params) => {
    if (weightDecay === 0) return [updates, {}]
    const out: Record<string, tf.Tensor> = {}
    for (const name of Object.keys(updates)) {
      const u = updates[name]!
      const p = params[name]
      if (p === undefined) throw new Bug(`add_decayed_weights: no parameter "${name}" for its update`)
      out[name] = decays(mask, name, p) ? tf.add(u, tf.mul(p, weightDecay)) : u
    }
    return [out, {}]
  }
})
