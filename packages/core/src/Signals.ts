/**
 * What the host measures and hands to selection criteria, as plain typed arrays: weight-derived
 * quantities always, activation statistics on a probe batch when a criterion asks for them.
 * Computing them on device and reading back dFF floats per layer is cheap; criteria stay plain JS.
 */

/** Per-neuron activation statistics of one FF layer on a probe batch. */
export interface ActivationStats {
  /** Mean |h_i| over probe tokens. */
  readonly meanAbs: Float32Array
  /** Fraction of probe tokens with h_i > 0. */
  readonly firingRate: Float32Array
}

/** Per-neuron signals of one FF layer. */
export interface LayerSignals {
  readonly layer: number
  readonly dFF: number
  /** ‖W_in[:, i]‖₂. */
  readonly inNorm: Float32Array
  /** ‖W_out[i, :]‖₂. */
  readonly outNorm: Float32Array
  /** M_i = ‖W_in[:, i]‖₂ · ‖W_out[i, :]‖₂. */
  readonly magnitude: Float32Array
  /** ‖W_out[i, :]‖₁ = Σ_j |W_out[i, j]| (Continual-Backprop contribution utility); filled by the recycler. */
  readonly outL1?: Float32Array
  /** Present when the criterion declared `needs.activations`. */
  readonly activations?: ActivationStats
  /**
   * The signal-plugin values the part asked for (`signals` of a criterion or probe), by the name
   * it gave each request: one float per neuron, accumulated over the request's window.
   */
  readonly values?: Readonly<Record<string, Float32Array>>
}

/** Signals of all FF layers at one step. */
export interface Signals {
  readonly step: number
  readonly layers: ReadonlyArray<LayerSignals>
}
