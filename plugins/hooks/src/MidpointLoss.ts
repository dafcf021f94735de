/**
 * The midpoint loss: an auxiliary loss pulling FF neuron magnitudes towards their layer's
 * midpoint,
 *
 *   L_aux = coefficient · Σ_layers Σ_i w_i · |x_i − stopgrad(c)|^p,   x_i = M_i or log M_i,
 *
 * with M_i = ‖W_in[:, i]‖·‖W_out[i, :]‖, c the mean or median of x over the layer's neurons, and
 * w_i = 1 (or, with `belowOnly`, 1 only where x_i < c). It is applied decoupled from the optimizer,
 * the way AdamW applies weight decay: after the optimizer's update of a step, the parameters move
 * by −lr_t · ∇L_aux (plain SGD at the run optimizer's learning rate for that step), with the
 * gradient taken at the pre-update parameters. The gradient is analytic:
 *   ∂L/∂W_in[:, i] = g_i · ‖W_out[i, :]‖ / ‖W_in[:, i]‖ · W_in[:, i],
 *   ∂L/∂W_out[i, :] = g_i · ‖W_in[:, i]‖ / ‖W_out[i, :]‖ · W_out[i, :],
 *   g_i = ∂L/∂M_i = coefficient · w_i · p·|d_i|^(p−1)·sign(d_i) · (1/M_i with log),  d_i = x_i − c.
 * A zero norm gives a zero gradient; log uses max(M_i, 1e-12).
 */
import { Bug, type DecoupledUpdate, Event, EventBus, type HookPart, type Params, Plugin, PluginError, type StepHook, type Topology } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import { Effect, Schema } from "effect"

const tiny = 1e-12

/** Options of `hooks/midpoint-loss`. */
export const MidpointLossConfig = Schema.Struct({
  coefficient: Schema.Finite.pipe(
    Schema.check(Schema.isGreaterThanOrEqualTo(0)),
    Schema.annotate({ description: "Weight of the auxiliary loss (>= 0; 0 = measured only)" })
  ),
  p: Schema.Literals([1, 2]).pipe(
    Schema.annotate({ description: "Exponent: 1 = absolute, 2 = squared distance (default 2)" }),
    Schema.withDecodingDefaultKey(Effect.succeed(2 as const))
  ),
  center: Schema.Literals(["mean", "median"]).pipe(
    Schema.annotate({ description: "The midpoint: mean or median of the layer's magnitudes (default mean)" }),
    Schema.withDecodingDefaultKey(Effect.succeed("mean" as const))
  ),
  log: Schema.Boolean.pipe(
    Schema.annotate({ description: "Measure distances on log M (default false)" }),
    Schema.withDecodingDefaultKey(Effect.succeed(false))
  ),
  belowOnly: Schema.Boolean.pipe(
    Schema.annotate({ description: "Only neurons below the midpoint are pulled (default false)" }),
    Schema.withDecodingDefaultKey(Effect.succeed(false))
  )
})
/** Pipeline section `midpointLoss` (type). */
export type MidpointLossConfig = typeof MidpointLossConfig.Type

/** The median of a vector (the mean of the two middle values for even lengths). */
export const median = (xs: ArrayLike<number>): number => {
  const s = Float64Array.from(xs).sort()
  if (s.length === 0) return Number.NaN
  const h = s.length >> 1
  return s.length % 2 === 1 ? s[h]! : (s[h - 1]! + s[h]!) / 2
}

interface LayerTerms {
  readonly inNorm: tf.Tensor1D
  readonly outNorm: tf.Tensor1D
  readonly magnitude: tf.Tensor1D
  /** x_i − c */
  readonly d: tf.Tensor1D
  /** w_i (1 or the below-center indicator) */
  readonly w: tf.Tensor1D
  readonly center: tf.Scalar
}

/** Per-layer terms, built in the caller's tidy. */
const terms = (config: MidpointLossConfig, params: Params.ParamMap, layer: Topology.FFLayer): LayerTerms => {
  const win = params[layer.win]
  const wout = params[layer.wout]
  if (win === undefined || wout === undefined) throw new Bug(`midpoint loss: parameters ${layer.win} / ${layer.wout} are missing`)
  const inNorm = tf.sqrt(tf.sum(tf.square(win), 0)) as tf.Tensor1D
  const outNorm = tf.sqrt(tf.sum(tf.square(wout), 1)) as tf.Tensor1D
  const magnitude = tf.mul(inNorm, outNorm) as tf.Tensor1D
  const x = config.log ? tf.log(tf.maximum(magnitude, tiny)) as tf.Tensor1D : magnitude
  const center = config.center === "mean" ? tf.mean(x) as tf.Scalar : tf.scalar(median(x.dataSync()))
  const d = tf.sub(x, center) as tf.Tensor1D
  const w = config.belowOnly ? tf.cast(tf.less(d, 0), "float32") as tf.Tensor1D : tf.onesLike(d)
  return { inNorm, outNorm, magnitude, d, w, center }
}

/** The auxiliary loss per layer (coefficient included) and each layer's center, read back. */
export const value = (
  config: MidpointLossConfig,
  topology: Topology.Topology,
  params: Params.ParamMap
): { readonly total: number; readonly layers: ReadonlyArray<{ readonly loss: number; readonly center: number }> } => {
  const layers = tf.tidy(() =>
    topology.layers.map((l) => {
      const t = terms(config, params, l)
      const dist = config.p === 1 ? tf.abs(t.d) : tf.square(t.d)
      const loss = tf.mul(tf.sum(tf.mul(dist, t.w)), config.coefficient).dataSync()[0]!
      return { loss, center: t.center.dataSync()[0]! }
    })
  )
  return { total: layers.reduce((n, l) => n + l.loss, 0), layers }
}

/** ∇L_aux by parameter name (W_in and W_out of every FF layer), analytic. Call inside `tf.tidy`. */
export const gradients = (config: MidpointLossConfig, topology: Topology.Topology, params: Params.ParamMap): Record<string, tf.Tensor> => {
  const out: Record<string, tf.Tensor> = {}
  for (const l of topology.layers) {
    const t = terms(config, params, l)
    const slope = config.p === 1 ? tf.sign(t.d) : tf.mul(t.d, 2)
    let g = tf.mul(tf.mul(slope, t.w), config.coefficient) as tf.Tensor1D
    if (config.log) g = tf.div(g, tf.maximum(t.magnitude, tiny))
    // zero norms give zero gradients: the weights are zero there, and the ratio is kept finite
    const inScale = tf.div(tf.mul(g, t.outNorm), tf.maximum(t.inNorm, tiny))
    const outScale = tf.div(tf.mul(g, t.inNorm), tf.maximum(t.outNorm, tiny))
    out[l.win] = tf.mul(params[l.win]!, tf.reshape(inScale, [1, l.dFF]))
    out[l.wout] = tf.mul(params[l.wout]!, tf.reshape(outScale, [l.dFF, 1]))
  }
  return out
}

/** The decoupled update: −lr · ∇L_aux (a `TrainLoop` decoupled step). */
export const decoupled = (config: MidpointLossConfig, topology: Topology.Topology): DecoupledUpdate => (params, lr) => {
  const grads = gradients(config, topology, params)
  const out: Record<string, tf.Tensor> = {}
  for (const [name, g] of Object.entries(grads)) out[name] = tf.mul(g, -lr)
  return out
}

/** The probe name of the midpoint loss's `Scalar` events. */
export const probeName = "midpoint-loss"

/**
 * A trainer hook: adds the decoupled step to every update, and every `every` steps (before the
 * update of step s, s % every == 0) emits `Scalar` events: `aux` (the loss, coefficient included)
 * and per layer `center`.
 */
export const hook = (config: MidpointLossConfig, topology: Topology.Topology, every: number): StepHook => {
  const options = { decoupled: [decoupled(config, topology)] }
  return {
    before: (step, loop) =>
      Effect.gen(function*() {
        if (step % every !== 0 || topology.layers.length === 0) return undefined
        const events = yield* EventBus
        const v = value(config, topology, loop.params)
        yield* events.emit(Event.Scalar.make({ step, probe: probeName, name: "aux", value: v.total }))
        for (const [p, l] of v.layers.entries()) {
          yield* events.emit(Event.Scalar.make({ step, probe: probeName, name: "center", layer: topology.layers[p]!.layer, value: l.center }))
        }
        return undefined
      }),
    stepOptions: () => options
  }
}

/** The built `hooks/midpoint-loss` part: its settings (for hosts and tests that inspect them). */
export interface MidpointLossPart extends HookPart {
  readonly config: MidpointLossConfig
}

/** `hooks/midpoint-loss`: the auxiliary loss on FF magnitudes, applied decoupled; `Scalar` events every `train.logEvery` steps. */
export const part = Plugin.part<"hooks">()({
  description: "Midpoint loss: pull FF neuron magnitudes towards their layer's mean or median, applied decoupled like weight decay",
  options: MidpointLossConfig,
  make: (m, build) =>
    Effect.gen(function*() {
      const context = yield* Plugin.runContext(build)
      if (context.dFF === 0) return yield* new PluginError({ part: "hooks/midpoint-loss", message: "the model has no FF neurons (model.dFF is 0)" })
      const hookPart: MidpointLossPart = {
        config: m,
        describe: () => ({
          summary: `midpoint loss: coefficient ${m.coefficient}, L${m.p} distance to the ${m.center}${m.log ? " of log-magnitudes" : ""}` +
            `${m.belowOnly ? ", neurons below it only" : ""}`
        }),
        build: (run) => Effect.succeed(hook(m, run.model.topology, run.logEvery))
      }
      return hookPart
    })
})
