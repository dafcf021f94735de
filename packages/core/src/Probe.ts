/**
 * Probes measure the model at a cadence without changing it (magnitude histograms, activation
 * statistics, scatter plots) and report typed events. The host hands them the same `Signals`
 * criteria see, plus per-neuron lineage.
 */
import type { Event } from "./Event.ts"
import type { Signals } from "./Signals.ts"

/** Per-layer recycling history a probe may read. */
export interface LineageView {
  readonly resets: ReadonlyArray<Int32Array>
}

/** What a probe sees when it runs. */
export interface ProbeContext {
  readonly step: number
  readonly signals: Signals
  readonly lineage: LineageView
}

/** A probe: runs every `every` steps and returns the events to report. */
export interface Probe {
  readonly every: number
  readonly needs: { readonly activations: boolean }
  readonly run: (ctx: ProbeContext) => ReadonlyArray<Event>
}
