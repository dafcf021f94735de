/**
 * Activation signals over the tokens of either the training step itself (`source: "step"`, free:
 * h is computed anyway; reduced in the step's tap during the backward pass) or the run's probe batch (`source: "probe"`, one forward pass per
 * observation): mean |h_i|, the firing rate (fraction of tokens with h_i > 0) and the variance of
 * h_i over tokens (population variance, float32).
 */
import { Bug, type Signal } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"

/** Where activations come from. */
export type Source = "step" | "probe"

const hiddenOf = (v: Signal.LayerView, id: string): tf.Tensor2D => {
  if (v.hidden === undefined) throw new Bug(`${id}: layer ${v.layer.layer} has no activations in its view (the host did not observe any)`)
  return v.hidden
}

/** From the step: h alone, reduced in the step's tap at backward time (nothing held). */
const needsOf = (source: Source): Signal.SignalNeeds => (source === "step" ? { step: "hidden" } : { probe: true })

const checkProbe = (source: Source, id: string) => (c: Signal.SignalContext) =>
  source === "probe" && !c.probe ? `${id} reads the probe batch (source "probe"), but the run has none` : undefined

const activationSignal = (id: string, source: Source, f: (h: tf.Tensor2D) => tf.Tensor1D): Signal.Signal => ({
  needs: needsOf(source),
  compute: (v) => f(hiddenOf(v, id)),
  check: checkProbe(source, id)
})

/**
 * The mean over tokens (axis 0) as a sum divided by the count: a leading-axis sum is one heap pass
 * with the engine's wasm overrides, where Mean and Moments transpose the whole `[tokens, dFF]` first.
 */
const tokenMean = (x: tf.Tensor2D): tf.Tensor1D => tf.div(tf.sum(x, 0), x.shape[0]) as tf.Tensor1D

/** `signal/mean-abs`: E|h_i| over tokens. */
export const meanAbs = (options: { readonly source: Source }): Signal.Signal =>
  activationSignal("signal/mean-abs", options.source, (h) => tokenMean(tf.abs(h)))

/** `signal/firing-rate`: the fraction of tokens with h_i > 0. */
export const firingRate = (options: { readonly source: Source }): Signal.Signal =>
  activationSignal("signal/firing-rate", options.source, (h) => tokenMean(tf.cast(tf.greater(h, 0), "float32")))

/** `signal/activation-variance`: Var_tokens(h_i) = E[(h_i − E h_i)²] (two passes, population variance). */
export const activationVariance = (options: { readonly source: Source }): Signal.Signal =>
  activationSignal("signal/activation-variance", options.source, (h) => tokenMean(tf.square(tf.sub(h, tokenMean(h)))))
