/**
 * Selection criteria: which neurons of each FF layer to recycle. A criterion may keep running
 * statistics (`init`/`observe`, e.g. Continual-Backprop utility) and answers a `SelectRequest`
 * with a `Selection`. Everything is plain JS over `Signals`; randomness comes only from the key.
 */
import type { Key } from "./Key.ts"
import type { Selection, SelectRequest } from "./Selection.ts"
import type { SignalRequests } from "./Signal.ts"
import type { Signals } from "./Signals.ts"
import type { Topology } from "./Topology.ts"

/** Which signals the host must measure for this criterion. */
export interface CriterionNeeds {
  /** Activation statistics on a probe batch (dormant, firing rate, utility). */
  readonly activations: boolean
}

/** A selection criterion with running state `S` (use `void` for stateless criteria). */
export interface Criterion<S = unknown> {
  readonly needs: CriterionNeeds
  /**
   * Signal-plugin values this criterion reads (`LayerSignals.values[name]`), by name: the host
   * computes exactly these, at their cadence and window, and `validate` checks each one exists
   * and fits the run (field path `…select.signals.<name>`).
   */
  readonly signals?: SignalRequests
  /**
   * How the count is decided: `rank` criteria return exactly the requested k per layer (or total);
   * `threshold` criteria return every eligible neuron that passes their test (k is an upper
   * bound only when the criterion documents it); `bernoulli` criteria draw each neuron independently.
   */
  readonly count: "rank" | "threshold" | "bernoulli"
  readonly init: (topology: Topology) => S
  /**
   * The criterion's cadence: the host calls `observe` before the update of every step s with
   * s % observeEvery == 0 (absent = never: criteria without running statistics).
   */
  readonly observeEvery?: number
  /** Folds the signals of one observation into the state (called at the criterion's cadence). */
  readonly observe: (state: S, signals: Signals) => S
  /**
   * Forgets what the state knows about neurons that were just reinitialized (by any stage); the
   * host calls it after every recycling event. Absent = the state is kept as is.
   */
  readonly forget?: (state: S, recycled: Selection) => S
  readonly select: (state: S, signals: Signals, request: SelectRequest, key: Key) => Selection
}
