/** The plugin parts of `signal`: each decodes its options and builds its signal. */
import { Plugin } from "@rekindle/core"
import { Effect } from "effect"
import { activationVariance, firingRate, meanAbs } from "./Activations.ts"
import { gradNorm, snip, taylor } from "./Gradients.ts"
import { secondMoment } from "./Optimizer.ts"
import { NoOptions, ProbeActivationOptions, SecondMomentOptions, StepActivationOptions } from "./Options.ts"
import { inNorm, magnitude, outL1, outNorm } from "./Weights.ts"

const weightPart = (description: string, make: typeof inNorm) =>
  Plugin.part<"signals">()({ description, options: NoOptions, make: () => Effect.sync(make) })

/** `signal/in-norm`. */
export const inNormPart = weightPart("‖W_in[:, i]‖₂ (GLU: with the gate column, sqrt(‖W_in[:, i]‖² + ‖W_gate[:, i]‖²)); weights only", inNorm)
/** `signal/out-norm`. */
export const outNormPart = weightPart("‖W_out[i, :]‖₂; weights only", outNorm)
/** `signal/magnitude`. */
export const magnitudePart = weightPart("M_i = in-norm · out-norm; weights only", magnitude)
/** `signal/out-l1`. */
export const outL1Part = weightPart("‖W_out[i, :]‖₁ (Continual-Backprop contribution weight); weights only", outL1)

/** `signal/mean-abs`. */
export const meanAbsPart = Plugin.part<"signals">()({
  description: "E|h_i| over the tokens of the probe batch (default) or of the training step",
  options: ProbeActivationOptions,
  make: (o) => Effect.sync(() => meanAbs(o))
})

/** `signal/firing-rate`. */
export const firingRatePart = Plugin.part<"signals">()({
  description: "Fraction of tokens with h_i > 0, on the probe batch (default) or the training step",
  options: ProbeActivationOptions,
  make: (o) => Effect.sync(() => firingRate(o))
})

/** `signal/activation-variance`. */
export const activationVariancePart = Plugin.part<"signals">()({
  description: "Variance of h_i over the tokens of the training step (default) or of the probe batch",
  options: StepActivationOptions,
  make: (o) => Effect.sync(() => activationVariance(o))
})

/** `signal/taylor`. */
export const taylorPart = Plugin.part<"signals">()({
  description: "First-order Taylor importance |mean over tokens of h_i·∂L/∂h_i|, from the training step's own backward pass",
  options: NoOptions,
  make: () => Effect.sync(taylor)
})

/** `signal/grad-norm`. */
export const gradNormPart = Plugin.part<"signals">()({
  description: "‖∂L/∂θ_i‖₂ over every parameter scalar of neuron i, from the training step's gradients",
  options: NoOptions,
  make: () => Effect.sync(gradNorm)
})

/** `signal/snip`. */
export const snipPart = Plugin.part<"signals">()({
  description: "SNIP saliency Σ|θ ⊙ ∂L/∂θ| over neuron i's parameter scalars, from the training step's gradients",
  options: NoOptions,
  make: () => Effect.sync(snip)
})

/** `signal/second-moment`. */
export const secondMomentPart = Plugin.part<"signals">()({
  description: "Mean over neuron i's parameter scalars of an optimizer slot (default Adam's second moment adam.nu)",
  options: SecondMomentOptions,
  make: (o) => Effect.sync(() => secondMoment(o))
})
