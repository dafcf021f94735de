/**
 * Retraining a subset ("overtraining"): before the update of step `at`, choose FF neurons
 * (smallest / largest / random by magnitude, a fraction of each layer, or all of them), freeze
 * every other parameter and every other slice of the FF weights, and train those neurons alone
 * for `steps` steps under a fresh optimizer (the run's optimizer kind, learning rate `lr`,
 * linear warm-up over `warmup` steps). Then either continue normal training (`then: "continue"`:
 * the run's optimizer and its state from before step `at` come back, its step count advanced by
 * `steps` so its learning-rate schedule stays aligned with the run's steps) or end the run
 * (`then: "stop"`: the run is `at + steps` steps long).
 *
 * Freezing is exact: only the FF neuron parameters are differentiated, their gradients and
 * updates are multiplied by a mask that is 1 on the chosen neurons' slices (W_in columns, W_out
 * rows, b_in entries) and 0 elsewhere, so weight decay does not touch frozen slices either.
 * The fresh optimizer's state covers every parameter (frozen ones keep their zero slots), so a
 * checkpoint written inside the window has the run optimizer's slot layout; the run optimizer's
 * own state then travels in the hook's state (named "retrain") and comes back on resume.
 */
import { type Criterion, Event, EventBus, type HookPart, type HookState, Key, type Loop, type Optimizer, Plugin, PluginError, RunError, Schemas, Selection, Slices, type StepHook, type StepOptions, Topology, UserError } from "@rekindle/core"
import { Measure } from "@rekindle/model"
import * as tf from "@tensorflow/tfjs-core"
import { Effect, Schema } from "effect"

const { NonNegativeInt, PositiveInt } = Schemas

/** Which neurons are retrained. */
export const Subset = Schema.Literals(["smallest", "largest", "random", "all"])
/** Which neurons are retrained (type). */
export type Subset = typeof Subset.Type

/** The criterion part that chooses each subset (none for `all`). */
export const subsetCriteria: Readonly<Record<Exclude<Subset, "all">, string>> = {
  smallest: "select/magnitude-smallest",
  largest: "select/magnitude-largest",
  random: "select/random"
}

/** Options of `hooks/retrain`. */
export const RetrainSettings = Schema.Struct({
  at: NonNegativeInt.pipe(Schema.annotate({ description: "Step before whose update retraining starts" })),
  subset: Subset.pipe(Schema.annotate({ description: "smallest / largest (by magnitude) / random neurons of each layer, or all FF neurons" })),
  fraction: Schema.Finite.pipe(
    Schema.check(Schema.isBetween({ minimum: 0, maximum: 1, exclusiveMinimum: true }, { expected: "a fraction in (0, 1]" })),
    Schema.annotate({ description: "Fraction of each layer's neurons retrained (ignored for subset all; default 0.1)" }),
    Schema.withDecodingDefaultKey(Effect.succeed(0.1))
  ),
  steps: PositiveInt.pipe(Schema.annotate({ description: "Number of retraining steps" })),
  warmup: NonNegativeInt.pipe(
    Schema.annotate({ description: "Linear warm-up steps of the fresh optimizer (default 0)" }),
    Schema.withDecodingDefaultKey(Effect.succeed(0))
  ),
  lr: Schema.optionalKey(
    Schema.Finite.pipe(Schema.check(Schema.isGreaterThan(0)), Schema.annotate({ description: "Peak learning rate of the fresh optimizer (default: the run optimizer's lr)" }))
  ),
  then: Schema.Literals(["continue", "stop"]).pipe(
    Schema.annotate({ description: "After retraining: continue normal training, or end the run (default continue)" }),
    Schema.withDecodingDefaultKey(Effect.succeed("continue" as const))
  )
})
/** Options of `hooks/retrain` (type). */
export type RetrainSettings = typeof RetrainSettings.Type

/** Retraining as built for a run. */
export interface Retrain {
  readonly at: number
  readonly steps: number
  readonly subset: Subset
  readonly fraction: number
  readonly then: "continue" | "stop"
  /** The learning rate the fresh optimizer peaks at (for reports). */
  readonly lr: number
  /** The fresh optimizer (warm-up schedule), initialised over the FF neuron parameters at `at`. */
  readonly optimizer: Optimizer.Optimizer
  /** The criterion choosing the subset (absent for `all`). */
  readonly criterion?: { readonly id: string; readonly criterion: Criterion<any> }
}

/** The step count of a run with retraining: `at + steps` when it stops, else `steps`. */
export const runLength = (retrain: Pick<Retrain, "at" | "steps" | "then"> | undefined, steps: number): number =>
  retrain !== undefined && retrain.then === "stop" ? Math.min(steps, retrain.at + retrain.steps) : steps

/** Neurons retrained per layer of `dFF`. */
export const countFor = (retrain: Pick<Retrain, "subset" | "fraction">, dFF: number): number =>
  retrain.subset === "all" ? dFF : Math.round(retrain.fraction * dFF)

/** The chosen neurons: every neuron for `all`, else the criterion's choice on the current weights. */
export const choose = (
  retrain: Pick<Retrain, "subset" | "fraction" | "criterion">,
  topology: Topology.Topology,
  params: Readonly<Record<string, tf.Tensor>>,
  key: Key.Key,
  step: number
): Selection.Selection => {
  if (retrain.subset === "all" || retrain.criterion === undefined) {
    return {
      layers: topology.layers.map((l, p) => ({
        layer: p,
        indices: Array.from({ length: l.dFF }, (_, i) => i),
        scores: Array.from({ length: l.dFF }, () => 0)
      }))
    }
  }
  const c = retrain.criterion.criterion
  const signals = Measure.measure({ topology, activationStats: () => [] }, params, step)
  const k = topology.layers.map((l) => countFor(retrain, l.dFF))
  return c.select(c.init(topology), signals, {
    scope: "per-layer",
    fraction: retrain.fraction,
    k,
    total: k.reduce((a, b) => a + b, 0),
    eligible: topology.layers.map((l) => new Uint8Array(l.dFF).fill(1))
  }, key)
}

/** The float masks (1 on the chosen neurons' slices) of every FF neuron parameter. Caller disposes. */
export const masksFor = (
  topology: Topology.Topology,
  params: Readonly<Record<string, tf.Tensor>>,
  selection: Selection.Selection
): Record<string, tf.Tensor> =>
  tf.tidy(() => {
    const out: Record<string, tf.Tensor> = {}
    topology.layers.forEach((l, p) => {
      const indices = selection.layers[p]?.indices ?? []
      for (const s of l.slices) out[s.param] = tf.cast(Slices.sliceMask(params[s.param]!.shape, s.axis, indices), "float32")
    })
    return out
  })

/** The retraining state of a run. */
export interface Retrainer {
  /** Before step s's update: starts retraining at `at`, ends it at `at + steps` (continue); returns events. */
  readonly before: (step: number, loop: Loop) => Array<Event.Event>
  /** The step options of step s (frozen parameters and masks inside the retraining window). */
  readonly stepOptions: (step: number) => StepOptions | undefined
  /** Whether retraining is under way (the fresh optimizer is installed). */
  readonly active: () => boolean
  /** The state for checkpoints: JSON (the chosen neurons) and the run optimizer's saved slots. */
  readonly save: () => { readonly json: RetrainerSnapshot; readonly tensors: Readonly<Record<string, tf.Tensor>> }
  /**
   * Replaces the state with a saved one; inside the window it installs the fresh optimizer in the
   * loop (whose state the caller then replaces) and copies the run optimizer's slots.
   */
  readonly load: (json: RetrainerSnapshot, tensors: Readonly<Record<string, tf.Tensor>>, loop: Loop) => void
  /** Disposes masks and any optimizer state it holds. */
  readonly dispose: () => void
}

/** The retrainer's state as JSON. */
export interface RetrainerSnapshot {
  readonly version: 1
  /** Absent outside the window; inside it, the chosen neurons per layer and the run optimizer's step count. */
  readonly active?: { readonly indices: ReadonlyArray<ReadonlyArray<number>>; readonly count: number; readonly slots: ReadonlyArray<string> }
}

const disposeState = (state: Optimizer.OptState) => {
  for (const t of Object.values(state.slots).flatMap((s) => Object.values(s))) t.dispose()
}

/** Builds the retrainer; `key` is the run's root key (the subset draws from `Key.fold(Key.split(key, "retrain"), at)`). */
export const make = (options: { readonly retrain: Retrain; readonly topology: Topology.Topology; readonly key: Key.Key }): Retrainer => {
  const { retrain, topology } = options
  const trainable = Topology.neuronParams(topology)
  let options_: StepOptions | undefined
  let masks: Record<string, tf.Tensor> | undefined
  let saved: { readonly optimizer: Optimizer.Optimizer; readonly state: Optimizer.OptState } | undefined
  let chosen: ReadonlyArray<ReadonlyArray<number>> = []
  const end = retrain.at + retrain.steps

  const install = (selection: Selection.Selection, params: Readonly<Record<string, tf.Tensor>>) => {
    chosen = topology.layers.map((_, p) => [...(selection.layers[p]?.indices ?? [])])
    masks = retrain.subset === "all" ? undefined : masksFor(topology, params, selection)
    options_ = { trainable, ...(masks !== undefined ? { masks } : {}) }
  }

  const start = (step: number, loop: Loop): Array<Event.Event> => {
    if (topology.layers.length === 0) throw new RunError({ step, message: "retrain: the model has no FF neurons (model.dFF = 0)" })
    const selection = choose(retrain, topology, loop.params, Key.fold(Key.split(options.key, "retrain"), step), step)
    selection.layers.forEach((l, p) => {
      const want = countFor(retrain, topology.layers[p]!.dFF)
      if (l.indices.length !== want) {
        throw new RunError({ step, message: `retrain: ${retrain.criterion?.id ?? "all"} chose ${l.indices.length} neurons in layer ${p}, ${want} were requested` })
      }
    })
    install(selection, loop.params)
    // over every parameter, so the slot layout is the run optimizer's (checkpoints fit); frozen slots stay zero
    const fresh = tf.tidy(() => retrain.optimizer.init(loop.params) as unknown as tf.TensorContainer) as unknown as Optimizer.OptState
    saved = loop.swapOptimizer(retrain.optimizer, fresh)
    const magnitudes = Measure.magnitudes(topology, loop.params)
    return selection.layers.map((l, p) =>
      Event.Retrain.make({
        step,
        until: end,
        layer: topology.layers[p]!.layer,
        subset: retrain.subset,
        indices: [...l.indices],
        magnitude: l.indices.length === 0 ? 0 : l.indices.reduce((s, i) => s + magnitudes[p]![i]!, 0) / l.indices.length,
        then: retrain.then
      })
    )
  }

  const finish = (loop: Loop) => {
    if (saved === undefined) return
    const back = saved
    saved = undefined
    const fresh = loop.swapOptimizer(back.optimizer, { count: back.state.count + retrain.steps, slots: back.state.slots })
    disposeState(fresh.state)
    release()
  }

  const release = () => {
    if (masks !== undefined) for (const m of Object.values(masks)) m.dispose()
    masks = undefined
    options_ = undefined
  }

  return {
    before: (step, loop) => {
      if (step === retrain.at) return start(step, loop)
      if (step === end && retrain.then === "continue") finish(loop)
      return []
    },
    stepOptions: (step) => (step >= retrain.at && step < end ? options_ : undefined),
    active: () => saved !== undefined,
    save: () => {
      if (saved === undefined) return { json: { version: 1 }, tensors: {} }
      const tensors: Record<string, tf.Tensor> = {}
      for (const [slot, m] of Object.entries(saved.state.slots)) for (const [n, t] of Object.entries(m)) tensors[`${slot}/${n}`] = t
      return {
        json: { version: 1, active: { indices: chosen, count: saved.state.count, slots: Object.keys(saved.state.slots).sort() } },
        tensors
      }
    },
    load: (json, tensors, loop) => {
      if (json.version !== 1) throw new UserError({ message: `retrain restore: unknown snapshot version ${String(json.version)}` })
      release()
      if (saved !== undefined) disposeState(saved.state)
      saved = undefined
      const a = json.active
      if (a === undefined) return
      if (a.indices.length !== topology.layers.length) throw new UserError({ message: `retrain restore: snapshot has ${a.indices.length} layers, the model ${topology.layers.length}` })
      const slots: Record<string, Record<string, tf.Tensor>> = {}
      for (const slot of a.slots) slots[slot] = {}
      for (const [key, t] of Object.entries(tensors)) {
        const cut = key.indexOf("/")
        const slot = key.slice(0, cut)
        if (slots[slot] === undefined) throw new UserError({ message: `retrain restore: tensor ${key} belongs to no saved slot` })
        slots[slot][key.slice(cut + 1)] = tf.clone(t)
      }
      install({ layers: a.indices.map((indices, p) => ({ layer: p, indices, scores: indices.map(() => 0) })) }, loop.params)
      // the caller installs the checkpoint's optimizer state (the fresh optimizer's) right after this
      const previous = loop.swapOptimizer(retrain.optimizer, loop.optState())
      saved = { optimizer: previous.optimizer, state: { count: a.count, slots } }
    },
    dispose: () => {
      release()
      if (saved !== undefined) disposeState(saved.state)
      saved = undefined
    }
  }
}

/** The retrainer's state for checkpoints (named "retrain"). */
export const state = (retrainer: Retrainer): HookState => ({
  name: "retrain",
  save: () => retrainer.save(),
  load: (json, tensors, loop) => retrainer.load(json as RetrainerSnapshot, tensors, loop)
})

/** A trainer hook driving the retrainer; its state travels with checkpoints. */
export const hook = (retrainer: Retrainer): StepHook => ({
  state: state(retrainer),
  before: (step, loop) =>
    Effect.gen(function*() {
      const events = yield* EventBus
      const out = yield* Effect.try({ try: () => retrainer.before(step, loop), catch: RunError.from(step, "retrain") })
      for (const e of out) yield* events.emit(e)
      return undefined
    }),
  stepOptions: (step) => retrainer.stepOptions(step)
})

/** The built `hooks/retrain` part: its retraining as built (for hosts and tests that inspect it). */
export interface RetrainPart extends HookPart {
  readonly retrain: Retrain
}

/**
 * `hooks/retrain`: retraining a subset. Checks that the window fits in training; the subset's
 * criterion is the built-in magnitude or random one, and the fresh optimizer is the run's with
 * `lr` and a linear warm-up over `warmup` steps.
 */
export const part = Plugin.part<"hooks">()({
  description: "Retrain a subset of FF neurons (smallest / largest / random / all) under a fresh optimizer, then continue or stop",
  options: RetrainSettings,
  make: (r, build) =>
    Effect.gen(function*() {
      const context = yield* Plugin.runContext(build)
      if (context.dFF === 0) return yield* new PluginError({ part: "hooks/retrain", message: "the model has no FF neurons (model.dFF is 0)" })
      if (r.at + r.steps > context.totalSteps) {
        return yield* new PluginError({ part: "hooks/retrain",
          message: `steps: retraining runs steps ${r.at}..${r.at + r.steps - 1}, but training runs steps 0..${context.totalSteps - 1} (train.steps = ${context.totalSteps})`
        })
      }
      const criterion = r.subset === "all"
        ? undefined
        : { id: subsetCriteria[r.subset], criterion: yield* context.part("criteria", { use: subsetCriteria[r.subset] }, "subset") }
      const lr = r.lr ?? context.optimizer["lr"]
      if (typeof lr !== "number") {
        return yield* new PluginError({ part: "hooks/retrain", message: `lr: the optimizer ${context.optimizer.use} has no numeric lr to default to; give lr` })
      }
      const optimizer = yield* context.part("optimizers", { ...context.optimizer, lr, schedule: { kind: "warmup", warmupSteps: r.warmup } }, "optimizer")
      const retrain: Retrain = { at: r.at, steps: r.steps, subset: r.subset, fraction: r.fraction, then: r.then, lr, optimizer, ...(criterion !== undefined ? { criterion } : {}) }
      const hookPart: RetrainPart = {
        retrain,
        runLength: (steps) => runLength(retrain, steps),
        describe: () => ({
          summary: `retraining: steps ${r.at}-${r.at + r.steps - 1} train only the "${r.subset}" subset (${countFor(retrain, context.dFF)} neuron(s) per layer), ` +
            `lr ${lr}, warm-up ${r.warmup}; then ${r.then === "stop" ? "the run stops" : "normal training continues"}`
        }),
        build: (run) =>
          Effect.acquireRelease(
            Effect.sync(() => make({ retrain, topology: run.model.topology, key: run.key })),
            (x) => Effect.sync(() => x.dispose())
          ).pipe(Effect.map(hook))
      }
      return hookPart
    })
})
