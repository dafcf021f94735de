/** Option schemas of the built-in signals (every option has a description and a default). */
import { Effect, Schema } from "effect"

/** Signals without options. */
export const NoOptions = Schema.Struct({})

const source = (fallback: "step" | "probe") =>
  Schema.Literals(["step", "probe"]).pipe(
    Schema.annotate({ description: "Tokens the statistic is taken over: the training step's own batch (free) or the run's probe batch (one forward pass)" }),
    Schema.withDecodingDefaultKey(Effect.succeed(fallback))
  )

/** Options of `signal/mean-abs` and `signal/firing-rate` (default: the probe batch, as the fixed signals had). */
export const ProbeActivationOptions = Schema.Struct({ source: source("probe") })

/** Options of `signal/activation-variance` (default: the step's own batch). */
export const StepActivationOptions = Schema.Struct({ source: source("step") })

/** Options of `signal/second-moment`. */
export const SecondMomentOptions = Schema.Struct({
  slot: Schema.NonEmptyString.pipe(
    Schema.annotate({ description: "The optimizer slot averaged over each neuron's scalars (Adam's second moment: adam.nu)" }),
    Schema.withDecodingDefaultKey(Effect.succeed("adam.nu"))
  )
})
