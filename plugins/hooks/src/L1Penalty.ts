/**
 * `hooks/l1-ff`: an L1 penalty on the FF weights, coefficient · Σ |W_in| + |W_out|, applied
 * decoupled from the optimizer the way AdamW applies weight decay: after each update the FF
 * weights move by −lr_t · coefficient · sign(W) (W taken before the update). Every `train.logEvery`
 * steps it emits a `Scalar` event `l1` (the penalty, coefficient included).
 *
 * The whole hook is this file: an options Schema, the decoupled update, the hook and its part. It
 * keeps no state across steps, so it needs no checkpoint state.
 */
import { type DecoupledUpdate, Event, EventBus, type HookPart, type Params, Plugin, PluginError, type StepHook, type Topology } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import { Effect, Schema } from "effect"

/** Options of `hooks/l1-ff`. */
export const L1Options = Schema.Struct({
  coefficient: Schema.Finite.pipe(
    Schema.check(Schema.isGreaterThan(0)),
    Schema.annotate({ description: "Weight of the L1 penalty on W_in and W_out (> 0)" })
  )
})
/** Options of `hooks/l1-ff` (type). */
export type L1Options = typeof L1Options.Type

/** The FF weight matrices of every layer (W_in, W_out). */
const weights = (topology: Topology.Topology): Array<string> => topology.layers.flatMap((l) => [l.win, l.wout])

/** The decoupled step: −lr · coefficient · sign(W) on every FF weight matrix. */
export const decoupled = (options: L1Options, topology: Topology.Topology): DecoupledUpdate => (params, lr) => {
  const out: Record<string, tf.Tensor> = {}
  for (const name of weights(topology)) out[name] = tf.mul(tf.sign(params[name]!), -lr * options.coefficient)
  return out
}

/** The penalty coefficient · Σ |W| over the FF weights (read back: one number). */
export const penalty = (options: L1Options, topology: Topology.Topology, params: Params.ParamMap): number =>
  tf.tidy(() => tf.addN(weights(topology).map((n) => tf.sum(tf.abs(params[n]!)))).dataSync()[0]! * options.coefficient)

/** The hook: the decoupled step on every update, and the `l1` scalar every `every` steps. */
export const hook = (options: L1Options, topology: Topology.Topology, every: number): StepHook => {
  const step = { decoupled: [decoupled(options, topology)] }
  return {
    before: (s, loop) =>
      s % every !== 0
        ? Effect.succeed(undefined)
        : Effect.gen(function*() {
          const events = yield* EventBus
          yield* events.emit(Event.Scalar.make({ step: s, probe: "l1-ff", name: "l1", value: penalty(options, topology, loop.params) }))
          return undefined
        }),
    stepOptions: () => step
  }
}

/** The `hooks/l1-ff` part. */
export const part = Plugin.part<"hooks">()({
  description: "L1 penalty on the FF weights (W_in, W_out), applied decoupled like weight decay",
  options: L1Options,
  make: (options, context) =>
    (context.dFF ?? 0) === 0
      ? Effect.fail(new PluginError({ part: "hooks/l1-ff", message: "the model has no FF neurons (model.dFF is 0)" }))
      : Effect.succeed<HookPart>({
        describe: () => ({ summary: `L1 penalty on the FF weights: coefficient ${options.coefficient}, decoupled at the run's learning rate` }),
        build: (run) => Effect.succeed(hook(options, run.model.topology, run.logEvery))
      })
})
