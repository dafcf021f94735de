/**
 * The step-hook contract: work a run does around each optimizer step (recycling, probes, gradual
 * pruning, subset retraining, auxiliary losses). A hook sees the training state through `Loop`,
 * may change the step's forward pass (`ForwardOptions`) and its update (`StepOptions`), emits
 * events on the run's `EventBus`, and exposes its own state for checkpoints (`HookState`).
 */
import type { Effect } from "effect"
import type * as tf from "@tensorflow/tfjs-core"
import type { RunError } from "./Errors.ts"
import type { EventBus } from "./EventBus.ts"
import type * as Optimizer from "./Optimizer.ts"
import type * as Params from "./Params.ts"

/** Smooth-reinit state of one FF layer: the weights before reinitialization and the per-neuron blend. */
export interface Blend {
  readonly oldWin: tf.Tensor2D
  readonly oldWout: tf.Tensor2D
  readonly oldBin?: tf.Tensor1D
  /** Weight of the new neuron, `[dFF]`: 1 = new weights only, 0 = old weights only. */
  readonly alpha: tf.Tensor1D
}

/** Per-step changes to the FF sublayers; arrays are indexed by FF layer (= block index). */
export interface ForwardOptions {
  /** Per FF layer, a multiplicative mask `[dFF]` on hidden units (gradual pruning); undefined = none. */
  readonly ffMask?: ReadonlyArray<tf.Tensor1D | undefined>
  /**
   * Per FF layer, a smooth-reinit blend: out = h_new·diag(alpha)·W_out + h_old·diag(1−alpha)·oldWout,
   * h_old = act(x·oldWin (+oldBin)); undefined = none. With `ffMask` too, the mask scales both h_new and h_old.
   */
  readonly blend?: ReadonlyArray<Blend | undefined>
}

/**
 * An additive change to the parameters computed on the pre-update parameters and the step's
 * learning rate, applied together with the optimizer's update (decoupled from the optimizer, the
 * way AdamW applies weight decay). Returns deltas by parameter name (params += delta).
 */
export type DecoupledUpdate = (params: Params.ParamMap, lr: number) => Params.ParamMap

/**
 * Per-step changes to the update itself (hooks build them: retraining a subset, the midpoint
 * loss). Absent fields = the default; a step without options runs the plain path.
 */
export interface StepOptions {
  /**
   * Only these parameters are differentiated and updated; every other one is frozen (no gradient
   * computed, no update, no weight decay, its optimizer slots carried over untouched).
   */
  readonly trainable?: ReadonlyArray<string>
  /**
   * Per parameter, a float mask of its shape (or broadcastable to it) multiplying its gradient
   * (before the optimizer), its update and its decoupled deltas: 0 freezes an element.
   */
  readonly masks?: Readonly<Record<string, tf.Tensor>>
  /** Decoupled updates added after the optimizer's, at the optimizer's learning rate for this step. */
  readonly decoupled?: ReadonlyArray<DecoupledUpdate>
}

/** The training state a hook may read and change: variables by parameter name and the optimizer state. */
export interface Loop {
  /** The current optimizer (replaced by `swapOptimizer`). */
  readonly optimizer: Optimizer.Optimizer
  /** Parameters by name (Variables; assign only, never edit memory in place). */
  readonly params: Readonly<Record<string, tf.Variable>>
  /** Optimizer state after the last step (replaced, never mutated). */
  readonly optState: () => Optimizer.OptState
  /** Replaces the optimizer state (recycling resets slots); the old state's tensors are disposed. */
  readonly setOptState: (state: Optimizer.OptState) => void
  /**
   * Installs another optimizer with its state (default: `optimizer.init` over every parameter)
   * and hands back the previous optimizer and state, which the caller now owns (nothing is
   * disposed): retraining swaps in a fresh optimizer and later swaps the old one back.
   */
  readonly swapOptimizer: (
    optimizer: Optimizer.Optimizer,
    state?: Optimizer.OptState
  ) => { readonly optimizer: Optimizer.Optimizer; readonly state: Optimizer.OptState }
  /** Optimizer steps done so far. */
  readonly stepsDone: () => number
  /** Sets the step count (resume from a checkpoint). */
  readonly setStepsDone: (steps: number) => void
}

/**
 * State a step hook keeps across steps (the recycler's counters and blends, a pruning mask, a
 * stashed optimizer). A hook with such state must expose it here, or a resumed run differs from
 * an uninterrupted one. `save` returns JSON and tensors the hook still owns (they are read back,
 * not disposed); `load` replaces the hook's state with a saved one and must copy the tensors it
 * keeps (the caller disposes them afterwards). `load` runs after the parameters are restored and
 * before the optimizer state is (so a hook may swap the loop's optimizer first).
 */
export interface HookState {
  /** Unique among the run's hooks; no "/" (it prefixes the hook's tensor names). */
  readonly name: string
  readonly save: () => { readonly json: unknown; readonly tensors: Readonly<Record<string, tf.Tensor>> }
  readonly load: (json: unknown, tensors: Readonly<Record<string, tf.Tensor>>, loop: Loop) => void
}

/** Work done before a step's update (recycling, probes); may return forward options for the step. */
export interface StepHook {
  readonly before: (step: number, loop: Loop) => Effect.Effect<ForwardOptions | undefined, RunError, EventBus>
  /**
   * Changes to step s's update (frozen parameters, gradient masks, decoupled updates), asked after
   * every hook's `before`. Hooks' options are merged: `trainable` lists intersect, `masks` merge
   * by parameter (a later hook wins), `decoupled` updates concatenate.
   */
  readonly stepOptions?: (step: number, loop: Loop) => StepOptions | undefined
  /**
   * The hook's state across steps, for checkpoints. A hook that keeps state and lacks this makes
   * a resumed run differ from an uninterrupted one.
   */
  readonly state?: HookState
}
