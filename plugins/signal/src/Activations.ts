/**
 * Activation signals over the tokens of either the training step itself (`source: "step"`, free:
 * h is computed anyway) or the run's probe batch (`source: "probe"`, one forward pass per
 * observation): mean |h_i|, the firing rate (fraction of tokens with h_i > 0) and the variance of
 * h_i over tokens (population variance, float32).
 */
import type { Signal } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"

/** Where activations come from. */
export type Source = "step" | "probe"

const hiddenOf = (v: Signal.LayerView, id: string): tf.Tensor2D => {
  if (v.hidden === undefined) throw new Error(`${id}: layer ${v.layer.layer} has no activations in its view (the host did not observe any)`)
  return v.hidden
}

const needsOf = (source: Source): Signal.SignalNeeds => (source === "step" ? { step: true } : { probe: true })

const checkProbe = (source: Source, id: string) => (c: Signal.SignalContext) =>
  source === "probe" && !c.probe ? `${id} reads the probe batch (source "probe"), but the run has none` : undefined

const activationSignal = (id: string, source: Source, f: (h: tf.Tensor2D) => tf.Tensor1D): Signal.Signal => ({
  needs: needsOf(source),
  compute: (v) => f(hiddenOf(v, id)),
  check: checkProbe(source, id)
})

/** `signal/mean-abs`: E|h_i| over tokens. */
export const meanAbs = (options: { readonly source: Source }): Signal.Signal =>
  activationSignal("signal/mean-abs", options.source, (h) => tf.mean(tf.abs(h), 0) as tf.Tensor1D)

/** `signal/firing-rate`: the fraction of tokens with h_i > 0. */
export const firingRate = (options: { readonly source: Source }): Signal.Signal =>
  activationSignal("signal/firing-rate", options.source, (h) => tf.mean(tf.cast(tf.greater(h, 0), "float32"), 0) as tf.Tensor1D)

/** `signal/activation-variance`: Var_tokens(h_i) = E[h_i²] − E[h_i]² computed as E[(h_i − E h_i)²]. */
export const activationVariance = (options: { readonly source: Source }): Signal.Signal =>
  activationSignal("signal/activation-variance", options.source, (h) => tf.moments(h, 0).variance as tf.Tensor1D)
