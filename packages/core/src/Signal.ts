/**
 * Signal providers (plugin kind `signals`): each computes one per-neuron vector `[dFF]` per FF
 * layer, on device, from a view of that layer — its weights (W_in, W_out, biases, the GLU gate),
 * the training step's own activations h, their gradients ∂L/∂h and the parameter gradients ∂L/∂W
 * (captured in the step's backward pass: no extra forward or backward), activations on the run's
 * probe batch, and the optimizer's slots. Criteria, probes and hooks declare the signals they need
 * by id and options (`SignalRequest`); the host computes only those, at the cadence asked for,
 * accumulates them over a window on device and hands the results over as plain `Float32Array`s
 * (`LayerSignals.values`). Window state travels in checkpoints.
 */
import type * as tf from "@tensorflow/tfjs-core"
import type { SlotSpec } from "./Optimizer.ts"
import type { FFLayer, NeuronSlice } from "./Topology.ts"

/** One FF layer's tensors by neuron-slice role (`in` = W_in, `out` = W_out, `gate` = W_gate, ...). */
export type LayerTensors = { readonly in: tf.Tensor; readonly out: tf.Tensor } & Readonly<
  Partial<Record<Exclude<NeuronSlice["role"], "in" | "out">, tf.Tensor>>
>

/**
 * What a signal reads besides the layer's weights. The host gathers only what some requested
 * signal needs: `step` costs a few reductions inside the training step, `probe` one forward pass
 * of the probe batch per observation, `optimizer` nothing (the slots exist anyway).
 */
export interface SignalNeeds {
  /**
   * What the signal reads of the training step (observed inside it, before its update):
   * - `true`: h, ∂L/∂h and ∂L/∂W; h and ∂L/∂h come from a tap in the activation's gradient and
   *   are held to the end of the step, where the signal runs;
   * - `"hidden"`: h and ∂L/∂h only (no ∂L/∂W in the view): the signal runs inside the tap, during
   *   the backward pass, the moment ∂L/∂h of the layer exists, and nothing is held;
   * - `"gradients"`: ∂L/∂W only, the step's own gradients (no tap, nothing held).
   */
  readonly step?: boolean | "gradients" | "hidden"
  /** h on the run's probe batch (forward only). */
  readonly probe?: boolean
  /** The optimizer's slots of the layer's slices. */
  readonly optimizer?: boolean
}

/**
 * The view of one FF layer a signal computes from. Every tensor belongs to the host: read it,
 * never dispose or keep it. Weights, gradients and slots are those of the step being observed,
 * before its update.
 */
export interface LayerView {
  /** The FF layer (block index, widths, parameter names and slices). */
  readonly layer: FFLayer
  /** The layer's parameters by role. */
  readonly weights: LayerTensors
  /** ∂L/∂W by role (`needs.step`, `true` or `"gradients"`); a parameter frozen in this step reads as zeros. */
  readonly grads?: LayerTensors
  /** h `[tokens, dFF]`: the step's activations (`needs.step`, `true` or `"hidden"`) or the probe batch's (`needs.probe`). */
  readonly hidden?: tf.Tensor2D
  /** ∂L/∂h `[tokens, dFF]` of the step (`needs.step`, `true` or `"hidden"`). */
  readonly hiddenGrad?: tf.Tensor2D
  /** The optimizer's slots by slot name, each by role (`needs.optimizer`). */
  readonly slots?: Readonly<Record<string, LayerTensors>>
}

/** What the host knows about the run when it checks a signal's compatibility (before any step). */
export interface SignalContext {
  /** The model's FF layers. */
  readonly layers: ReadonlyArray<FFLayer>
  /** The optimizer's slots with their reset semantics. */
  readonly slots: Readonly<Record<string, SlotSpec>>
  /** Whether the run has a probe batch. */
  readonly probe: boolean
}

/** A signal provider, as built by a `signals` part from its options. */
export interface Signal {
  readonly needs: SignalNeeds
  /**
   * The per-neuron vector `[dFF]` of one observation of one layer: synchronous TF.js, run inside
   * the host's `tf.tidy`; deterministic (no randomness); must not dispose or keep its inputs.
   */
  readonly compute: (view: LayerView) => tf.Tensor1D
  /**
   * Why this signal cannot run in a context (e.g. the optimizer keeps no second moment), or
   * undefined when it can. `validate` reports the message at the requesting field's path.
   */
  readonly check?: (context: SignalContext) => string | undefined
}

/**
 * How observations are folded into the value a part reads:
 * - `last`: the most recent observation;
 * - `mean`: the mean of the observations since the part last read it (a stage's firing reads);
 * - `ema`: v ← decay·v + (1 − decay)·x, starting from the first observation.
 * Before the first observation every window reads as zeros.
 */
export type Window =
  | { readonly kind: "last" }
  | { readonly kind: "mean" }
  | { readonly kind: "ema"; readonly decay: number }

/** A part's request for a signal: which one, its options, its window and cadence. */
export interface SignalRequest {
  /** The signal part's id, `namespace/id` (e.g. `signal/taylor`). */
  readonly use: string
  /** The part's options (decoded by its schema; default `{}`). */
  readonly options?: Readonly<Record<string, unknown>>
  /** Default `{ kind: "last" }`. */
  readonly window?: Window
  /** Observe in the steps s with s % every == 0 (default 1: every step). */
  readonly every?: number
}

/** The signals a part needs, by the name under which it reads them (`LayerSignals.values[name]`). */
export type SignalRequests = Readonly<Record<string, SignalRequest>>
