/**
 * `lab/taylor`: first-order Taylor importance (Molchanov et al. 2017). Removing neuron i changes the
 * loss by about |mean over tokens of h_i · ∂L/∂h_i|; the k neurons with the smallest estimate are
 * recycled. The criterion computes nothing itself: it declares the signal `signal/taylor`, which the
 * host measures inside the training steps (from the step's own backward pass) and averages over the
 * steps since this stage last fired.
 *
 * Rank count: exactly k per layer (per-layer scope) or in total (global scope), lowest score first;
 * ties go to the lower layer, then the lower index (`Selection.byRank`).
 */
import { type Criterion, Plugin, Selection, type Signals } from "@rekindle/core"
import { Effect, Schema } from "effect"

/** Options of `lab/taylor`, written next to `use` in a pipeline. */
export const Options = Schema.Struct({
  every: Schema.Int.pipe(
    Schema.check(Schema.isGreaterThanOrEqualTo(1)),
    Schema.annotate({ description: "Measure the Taylor signal in every training step s with s % every == 0" }),
    Schema.withDecodingDefaultKey(Effect.succeed(1))
  )
})

/** Per layer, the Taylor importance of each neuron, averaged since the stage last fired. */
export const scores = (signals: Signals): Array<Float32Array> =>
  signals.layers.map((layer) => {
    const taylor = layer.values?.taylor
    if (taylor === undefined) throw new Error(`lab/taylor: layer ${layer.layer} has no signal "taylor"`)
    return taylor
  })

/** The criterion: stateless; the window it reads lives in the host (and in checkpoints). */
export const criterion = (options: typeof Options.Type): Criterion<void> => ({
  needs: { activations: false },
  signals: { taylor: { use: "signal/taylor", window: { kind: "mean" }, every: options.every } },
  count: "rank",
  init: () => undefined,
  observe: (state) => state,
  select: (_state, signals, request) => Selection.byRank(scores(signals), request, "lowest")
})

/** The plugin value: register it in a pipeline (`definePipeline.with([plugin])`) or in rekindle.config.ts. */
export const plugin = Plugin.make({
  meta: { name: "rekindle-plugin-lab-taylor", version: "0.1.0", namespace: "lab", core: "^0.1.0" },
  criteria: {
    taylor: Plugin.part<"criteria">()({
      description: "The k neurons with the smallest Taylor importance |mean h_i·∂L/∂h_i| since the stage last fired (rank: exactly k)",
      options: Options,
      make: (options) => Effect.succeed(criterion(options))
    })
  }
})
