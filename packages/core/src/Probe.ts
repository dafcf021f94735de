/**
 * Probes measure the model at a cadence without changing it (magnitude histograms, activation
 * statistics, scatter plots) and report typed events. The host hands them the same `Signals`
 * criteria see, plus per-neuron lineage.
 */
import type { Event } from "./Event.ts"
import type { SignalRequests } from "./Signal.ts"
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
  /**
   * Signal-plugin values this probe reads (`ctx.signals.layers[p].values[name]`), by name; the host
   * computes them inside the training steps at their cadence and window (consumer `probes.<i>`).
   */
  readonly signals?: SignalRequests
  readonly run: (ctx: ProbeContext) => ReadonlyArray<Event>
}
