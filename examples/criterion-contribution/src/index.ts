/**
 * `lab/contribution`: recycle the FF neurons that write least into the residual stream.
 *
 * Neuron i of an FF layer adds h_i · W_out[i, :] to the residual stream, so the mean norm of its
 * write over the probe tokens is exactly c_i = E|h_i| · ‖W_out[i, :]‖₂. The classic magnitude score
 * M_i = ‖W_in[:, i]‖₂ · ‖W_out[i, :]‖₂ is a data-free proxy for the same thing (|h_i| ≤ ‖x‖·‖W_in[:, i]‖₂
 * for ReLU); c_i is the measured quantity, so a neuron with large weights that never fires scores 0.
 *
 * Rank count: exactly k per layer (per-layer scope) or in total (global scope), the lowest c_i
 * first; ties (e.g. several silent neurons, all 0) go to the lower layer, then the lower index.
 * `normalize` divides each layer's scores by that layer's mean score, so a global-scope stage
 * compares neurons with their own layer rather than letting the quietest layer take every pick.
 */
import { type Criterion, Plugin, Selection, type Signals } from "@rekindle/core"
import { Effect, Schema } from "effect"

/** Options of `lab/contribution`. */
export const ContributionOptions = Schema.Struct({
  normalize: Schema.Boolean.pipe(
    Schema.annotate({ description: "Divide each layer's scores by the layer's mean score (matters for global scope only)" }),
    Schema.withDecodingDefaultKey(Effect.succeed(false))
  )
})

/** Per layer, c_i = E|h_i| · ‖W_out[i, :]‖₂ (divided by the layer's mean c when `normalize`). */
export const contributionScores = (signals: Signals, normalize: boolean): Array<Float32Array> =>
  signals.layers.map((layer) => {
    if (layer.activations === undefined) {
      throw new Error(`lab/contribution: layer ${layer.layer} has no activation statistics (the host measures them when needs.activations is set)`)
    }
    const { meanAbs } = layer.activations
    const c = layer.outNorm.map((w, i) => meanAbs[i]! * w)
    if (!normalize) return c
    const mean = c.reduce((a, b) => a + b, 0) / Math.max(1, c.length)
    return c.map((x) => (mean > 0 ? x / mean : 0))
  })

/** The criterion itself: stateless, deterministic, needs activation statistics. */
export const contribution = (options: typeof ContributionOptions.Type): Criterion<void> => ({
  needs: { activations: true },
  count: "rank",
  init: () => undefined,
  observe: (state) => state,
  select: (_state, signals, request) => Selection.byRank(contributionScores(signals, options.normalize), request, "lowest")
})

/** The plugin value: register it in a pipeline (`plugins: [lab]`) or in `rekindle.config.ts`. */
export const lab = Plugin.make({
  meta: { name: "@rekindle-examples/criterion-contribution", version: "0.1.0", namespace: "lab", core: "^0.1.0" },
  criteria: {
    contribution: Plugin.part<"criteria">()({
      description: "The k neurons with the smallest residual-stream write E|h_i|·‖W_out[i,:]‖₂ on the probe batch (rank: exactly k)",
      options: ContributionOptions,
      make: (options) => Effect.succeed(contribution(options))
    })
  }
})
