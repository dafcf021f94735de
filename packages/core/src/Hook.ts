/**
 * The step-hook contract: work a run does around each optimizer step (recycling, probes, gradual
 * pruning, subset retraining, auxiliary losses). A hook sees the training state through `Loop`,
 * may change the step's forward pass (`ForwardOptions`) and its update (`StepOptions`), emits
 * events on the run's `EventBus`, and exposes its own state for checkpoints (`HookState`). Hooks
 * are a plugin part kind (`hooks`): a part's `make` returns a `HookPart`, which the runner builds
 * into a `StepHook` once the model exists (`HookContext`).
 */
import type { Effect, Scope } from "effect"
import type * as tf from "@tensorflow/tfjs-core"
import type { RunError } from "./Errors.ts"
import type { EventBus } from "./EventBus.ts"
import type * as Key from "./Key.ts"
import type * as Optimizer from "./Optimizer.ts"
import type * as Params from "./Params.ts"
import type { SignalRequests } from "./Signal.ts"
import type * as Topology from "./Topology.ts"

/** A batch on device (the model package moves a core `Batch` there). */
export interface BatchTensors {
  /** Input token ids, int32 `[B, T]`. */
  readonly inputIds: tf.Tensor2D
  /** Flat indices into `B·T` of the scored positions, int32 `[M]`. */
  readonly targetPositions: tf.Tensor1D
  /** The token to predict at each scored position, int32 `[M]`. */
  readonly targetIds: tf.Tensor1D
  readonly batchSize: number
  readonly seqLen: number
}

/** Smooth-reinit state of one FF layer: the weights before reinitialization and the per-neuron blend. */
export interface Blend {
  readonly oldWin: tf.Tensor2D
  readonly oldWout: tf.Tensor2D
  readonly oldBin?: tf.Tensor1D
  /** The old W_gate (GLU layers). */
  readonly oldWgate?: tf.Tensor2D
  /** The old gate bias (GLU layers with ffBias). */
  readonly oldBgate?: tf.Tensor1D
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
  /**
   * Called during the backward pass with each FF layer's hidden activations h and their gradient
   * ∂L/∂h (both `[B·T, dFF]`, h after activation and mask). It runs inside the gradient
   * computation's tidy: reduce on device and `tf.keep` what must outlive the step. Only a loss
   * differentiated with respect to something upstream of h calls it (a training step does).
   */
  readonly hiddenGrad?: HiddenGradTap
}

/** See `ForwardOptions.hiddenGrad`. */
export type HiddenGradTap = (ffLayer: number, hidden: tf.Tensor2D, dHidden: tf.Tensor2D) => void

/**
 * An additive change to the parameters computed on the pre-update parameters and the step's
 * learning rate, applied together with the optimizer's update (decoupled from the optimizer, the
 * way AdamW applies weight decay). Returns deltas by parameter name (params += delta).
 */
export type DecoupledUpdate = (params: Params.ParamMap, lr: number) => Params.ParamMap

/**
 * What an observer sees of one training step, inside the step's `tf.tidy`, after the backward pass
 * and before any parameter changes (keep what must outlive the step with `tf.keep`).
 */
export interface StepObservation {
  /** The parameters before this step's update. */
  readonly params: Params.ParamMap
  /** ∂L/∂W of the parameters this step trains (before gradient masks), by name. */
  readonly grads: Params.ParamMap
  /** Per FF layer, h `[tokens, dFF]` of the step (when an observer asked for `hidden`). */
  readonly hidden: ReadonlyArray<tf.Tensor2D | undefined>
  /** Per FF layer, ∂L/∂h `[tokens, dFF]` from the step's own backward pass (same condition). */
  readonly hiddenGrad: ReadonlyArray<tf.Tensor2D | undefined>
  /** The optimizer state before this step's update. */
  readonly opt: Optimizer.OptState
}

/**
 * What a step observer's `tap` sees of one FF layer during the step's backward pass, the moment
 * ∂L/∂h of that layer exists (inside the backward pass's tidy: reduce on device and `tf.keep`
 * what must outlive it; never dispose or keep the inputs themselves).
 */
export interface TapObservation {
  /** The FF layer's position (= block index). */
  readonly ffLayer: number
  /** h `[tokens, dFF]` of the step (after activation, GLU product and mask). */
  readonly hidden: tf.Tensor2D
  /** ∂L/∂h `[tokens, dFF]` from the step's own backward pass. */
  readonly hiddenGrad: tf.Tensor2D
  /** The parameters before this step's update (unchanged until then). */
  readonly params: Params.ParamMap
  /** The optimizer state before this step's update. */
  readonly opt: Optimizer.OptState
}

/** Looks at a training step without changing it (signal hosts measure gradients this way). */
export interface StepObserver {
  /**
   * Whether the step must capture each FF layer's h and ∂L/∂h and hold them to its end, for
   * `observe` (`StepObservation.hidden` / `hiddenGrad`).
   */
  readonly hidden: boolean
  /**
   * Called during the backward pass, once per FF layer, with that layer's h and ∂L/∂h (the same
   * identity with a custom gradient as `hidden`, but nothing is held past the call). The loss may
   * still turn out non-finite afterwards: fold what it computes in `observe`.
   */
  readonly tap?: (t: TapObservation) => void
  /** Called once per step after the loss was found finite. */
  readonly observe: (o: StepObservation) => void
}

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
  /** Observers of this step (they never change it: loss, gradients and update stay bit for bit). */
  readonly observers?: ReadonlyArray<StepObserver>
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
   * by parameter (a later hook wins), `decoupled` updates and `observers` concatenate.
   */
  readonly stepOptions?: (step: number, loop: Loop) => StepOptions | undefined
  /**
   * The hook's state across steps, for checkpoints. A hook that keeps state and lacks this makes
   * a resumed run differ from an uninterrupted one.
   */
  readonly state?: HookState
}

/** What a hook may ask of the model: its FF topology and activation statistics on a batch. */
export interface HookModel {
  readonly topology: Topology.Topology
  /** Per FF layer on a batch: mean |h_i| and the fraction of tokens with h_i > 0, each `[dFF]`. */
  readonly activationStats: (
    params: Params.ParamMap,
    batch: BatchTensors,
    options?: ForwardOptions
  ) => Array<{ meanAbs: tf.Tensor1D; firingRate: tf.Tensor1D }>
}

/** What the runner hands a hook part when it builds the run's hook (after the model exists). */
export interface HookContext {
  readonly model: HookModel
  /** The run's root key: a hook splits its own purposes from it (`Key.split(key, "pruning")`). */
  readonly key: Key.Key
  /** The run's `train.logEvery` (hooks that report scalars use it as their cadence). */
  readonly logEvery: number
  /** The run's probe batch, when one exists (criteria that need activation statistics). */
  readonly probe?: BatchTensors
  /**
   * The values of the signals the hook part declared (`HookPart.signals`), per FF layer by name,
   * folded over each request's window since the hook last read them (reading clears `mean`
   * windows). Present when the part declared signals.
   */
  readonly signals?: () => ReadonlyArray<Readonly<Record<string, Float32Array>>>
}

/** What `rekindle plan` shows for a hook: one summary line and, where useful, rows (elided when long). */
export interface HookDescription {
  readonly summary: string
  readonly rows?: ReadonlyArray<string>
}

/** What a `hooks` part's `make` returns: the plan's view of the hook and how to build it for a run. */
export interface HookPart {
  /**
   * Signal-plugin values the hook reads through `HookContext.signals`, by name: the run measures
   * them inside the training steps (consumer `hooks.<i>`), and `validate` checks each one.
   */
  readonly signals?: SignalRequests
  /** Builds the hook in the run's scope (tensors it keeps are released when the scope closes). */
  readonly build: (context: HookContext) => Effect.Effect<StepHook, RunError, Scope.Scope>
  /** The run's length with this hook, given the pipeline's `train.steps` (a hook may end the run early). */
  readonly runLength?: (steps: number) => number
  /** What the hook will do in a run of `steps` steps. */
  readonly describe: (steps: number) => HookDescription
}
