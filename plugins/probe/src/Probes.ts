/**
 * The probes. Each runs every `every` steps (the host runs it before steps 0, every, 2·every, …
 * and once more at the end) and turns the host's per-layer signals into typed events:
 *
 * - `probe/magnitudes`: per FF layer, a histogram of M_i = ‖W_in[:, i]‖·‖W_out[i, :]‖ and its mean
 *   and std as scalars (`magnitude`, `magnitude-mean`, `magnitude-std`).
 * - `probe/recycle-counts`: per FF layer, a histogram of how often each neuron was recycled so far
 *   (one bin per count), its mean and std, and the fraction of neurons recycled at least once.
 * - `probe/activations`: per FF layer on the run's probe batch, histograms of the firing rate
 *   (fraction of tokens with h_i > 0, bins over [0, 1]) and of mean |h_i|, their means and stds,
 *   the fraction of dead neurons (firing rate 0), and the scatter of magnitude vs firing rate with
 *   Pearson's r (also as a scalar when defined).
 */
import { Bug, Event, Plugin, type Probe, Schemas, Stats } from "@rekindle/core"
import type { LayerSignals, ProbeContext } from "@rekindle/core"
import { Effect, Schema } from "effect"

const { NonNegativeInt, PositiveInt } = Schemas


/** Default cadence (steps). */
export const defaultEvery = 100
/** Default histogram bins. */
export const defaultBins = 32

const every = PositiveInt.pipe(
  Schema.annotate({ description: "Run before every N-th step (0, N, 2N, …) and at the end" }),
  Schema.withDecodingDefaultKey(Effect.succeed(defaultEvery))
)
const bins = PositiveInt.pipe(
  Schema.check(Schema.isLessThanOrEqualTo(1000)),
  Schema.annotate({ description: "Histogram bins" }),
  Schema.withDecodingDefaultKey(Effect.succeed(defaultBins))
)

/** Options of `probe/magnitudes`. */
export const MagnitudesOptions = Schema.Struct({ every, bins })
/** Options of `probe/recycle-counts`. */
export const RecycleCountsOptions = Schema.Struct({ every })
/** Options of `probe/activations`. */
export const ActivationsOptions = Schema.Struct({
  every,
  bins,
  maxPoints: NonNegativeInt.pipe(
    Schema.annotate({ description: "At most this many neurons per layer in the scatter (every k-th; 0 = all). Pearson's r always uses all." }),
    Schema.withDecodingDefaultKey(Effect.succeed(1024))
  )
})

type Ev = Event.Event

/** A histogram event and its mean/std scalars. */
export const histogramEvents = (
  probe: string,
  name: string,
  step: number,
  layer: number,
  h: Stats.Histogram
): Array<Ev> => [
  Event.Histogram.make({ step, probe, name, layer, edges: h.edges, counts: h.counts, mean: h.mean, std: h.std }),
  Event.Scalar.make({ step, probe, name: `${name}-mean`, layer, value: h.mean }),
  Event.Scalar.make({ step, probe, name: `${name}-std`, layer, value: h.std })
]

/** `probe/magnitudes` as a function of its options. */
export const magnitudes = (options: { readonly every: number; readonly bins: number }, id = "probe/magnitudes"): Probe => ({
  every: options.every,
  needs: { activations: false },
  run: (ctx) =>
    ctx.signals.layers.flatMap((l) => histogramEvents(id, "magnitude", ctx.step, l.layer, Stats.histogram(l.magnitude, options.bins)))
})

/** `probe/recycle-counts` as a function of its options. */
export const recycleCounts = (options: { readonly every: number }, id = "probe/recycle-counts"): Probe => ({
  every: options.every,
  needs: { activations: false },
  run: (ctx) =>
    ctx.signals.layers.flatMap((l, p) => {
      const resets = ctx.lineage.resets[p] ?? new Int32Array(l.dFF)
      let recycled = 0
      for (const r of resets) if (r > 0) recycled++
      return [
        ...histogramEvents(id, "recycle-count", ctx.step, l.layer, Stats.integerHistogram(resets)),
        Event.Scalar.make({ step: ctx.step, probe: id, name: "recycled-fraction", layer: l.layer, value: recycled / Math.max(1, resets.length) })
      ]
    })
})

const activationsOf = (l: LayerSignals, id: string) => {
  if (l.activations === undefined) {
    throw new Bug(`${id}: layer ${l.layer} has no activation statistics (the host measured without a probe batch)`)
  }
  return l.activations
}

/** `probe/activations` as a function of its options. */
export const activations = (
  options: { readonly every: number; readonly bins: number; readonly maxPoints: number },
  id = "probe/activations"
): Probe => ({
  every: options.every,
  needs: { activations: true },
  run: (ctx: ProbeContext) =>
    ctx.signals.layers.flatMap((l) => {
      const a = activationsOf(l, id)
      const step = ctx.step
      let dead = 0
      for (const f of a.firingRate) if (f === 0) dead++
      const r = Stats.pearson(l.magnitude, a.firingRate)
      const keep = Stats.strideIndices(l.dFF, options.maxPoints)
      const out: Array<Ev> = [
        ...histogramEvents(id, "firing-rate", step, l.layer, Stats.histogram(a.firingRate, options.bins, [0, 1])),
        ...histogramEvents(id, "mean-abs-activation", step, l.layer, Stats.histogram(a.meanAbs, options.bins)),
        Event.Scalar.make({ step, probe: id, name: "dead-fraction", layer: l.layer, value: dead / Math.max(1, l.dFF) }),
        Event.Scatter.make({
          step,
          probe: id,
          name: "magnitude-vs-firing-rate",
          layer: l.layer,
          x: keep.map((i) => l.magnitude[i]!),
          y: keep.map((i) => a.firingRate[i]!),
          // an undefined r (a constant variable) is written as 0 here and gets no scalar event
          pearson: r ?? 0
        })
      ]
      if (r !== undefined) out.push(Event.Scalar.make({ step, probe: id, name: "magnitude-vs-firing-rate-pearson", layer: l.layer, value: r }))
      return out
    })
})

/** The `probe/magnitudes` part. */
export const magnitudesPart = Plugin.part<"probes">()({
  description: "Per FF layer: histogram of neuron magnitudes ‖W_in[:,i]‖·‖W_out[i,:]‖, with its mean and std as scalars.",
  options: MagnitudesOptions,
  make: (options) => Effect.succeed(magnitudes(options))
})

/** The `probe/recycle-counts` part. */
export const recycleCountsPart = Plugin.part<"probes">()({
  description: "Per FF layer: histogram of how often each neuron was recycled, its mean and std, and the fraction ever recycled.",
  options: RecycleCountsOptions,
  make: (options) => Effect.succeed(recycleCounts(options))
})

/** The `probe/activations` part. */
export const activationsPart = Plugin.part<"probes">()({
  description: "Per FF layer on the probe batch: histograms of firing rate and mean |activation|, dead fraction, " +
    "and the magnitude vs firing-rate scatter with Pearson's r.",
  options: ActivationsOptions,
  make: (options) => Effect.succeed(activations(options))
})
