/**
 * Gradual pruning: a cumulative per-layer mask on FF hidden units that grows from nothing to a
 * final fraction of each layer between two steps and never un-prunes. The mask is updated before
 * the update of every step s with s >= from, (s - from) % every == 0 and s <= until, and at
 * `until` itself (so the final fraction is always reached). At such a step the target fraction is
 * f(s) = final · (s - from) / (until - from) (`final` when until == from); each layer then has
 * round(f(s) · dFF) neurons pruned, the new ones chosen by a rank criterion among the neurons not
 * yet pruned. The mask reaches the model as `ForwardOptions.ffMask` (so pruned units output zero,
 * get no gradient, and evaluation sees the pruned model); every change emits one `Prune` event
 * per layer that grew.
 */
import { Bug, type Criterion, Event, EventBus, type HookDescription, type HookPart, type HookState, Key, Plugin, PluginError, RunError, Schemas, type Selection, Snapshot, type StepHook, type Topology, UserError } from "@rekindle/core"
import { type BatchTensors, type ForwardOptions, Measure, type Transformer } from "@rekindle/model"
import * as tf from "@tensorflow/tfjs-core"
import { Effect, Schema } from "effect"

const { NonNegativeInt, PositiveInt } = Schemas

/** The pruning schedule (pipeline section `pruning`, without its criterion). */
export const PruningSchedule = Schema.Struct({
  from: NonNegativeInt.pipe(Schema.annotate({ description: "Step at which the ramp starts (fraction 0)" })),
  until: NonNegativeInt.pipe(Schema.annotate({ description: "Step at which the final fraction is reached (>= from, < train.steps)" })),
  final: Schema.Finite.pipe(
    Schema.check(Schema.isBetween({ minimum: 0, maximum: 1, exclusiveMinimum: true }, { expected: "a fraction in (0, 1]" })),
    Schema.annotate({ description: "Fraction of each layer's FF neurons pruned at `until` and after (1: the whole layer, as the reference study pruned)" })
  ),
  every: PositiveInt.pipe(
    Schema.annotate({ description: "Grow the mask every N steps between from and until (default 10)" }),
    Schema.withDecodingDefaultKey(Effect.succeed(10))
  )
})
/** The pruning schedule (type). */
export type PruningSchedule = typeof PruningSchedule.Type

/** Pruning as built for a run: the schedule and the (rank) criterion that chooses what to prune. */
export interface Pruning {
  readonly schedule: PruningSchedule
  readonly criterion: { readonly id: string; readonly criterion: Criterion<any> }
}

/** Target fraction at step s (0 before `from`, `final` from `until` on). */
export const targetFraction = (schedule: PruningSchedule, s: number): number => {
  if (s < schedule.from) return 0
  if (s >= schedule.until) return schedule.final
  return (schedule.final * (s - schedule.from)) / (schedule.until - schedule.from)
}

/** The steps in [0, steps) at which the mask may grow. */
export const updateSteps = (schedule: PruningSchedule, steps: number): Array<number> => {
  const out: Array<number> = []
  for (let s = schedule.from; s <= schedule.until && s < steps; s += schedule.every) out.push(s)
  if (schedule.until < steps && out.at(-1) !== schedule.until) out.push(schedule.until)
  return out
}

/** Pruned neurons per layer of `dFF` at step s. */
export const prunedCount = (schedule: PruningSchedule, s: number, dFF: number): number =>
  Math.round(targetFraction(schedule, s) * dFF)

/** The pruning state of a run. */
export interface Pruner {
  /** Per FF layer, 1 = kept, 0 = pruned. */
  readonly kept: () => ReadonlyArray<Uint8Array>
  /** Grows the mask when step s is an update step; returns the events (one per layer that grew). */
  readonly update: (step: number, params: Readonly<Record<string, tf.Tensor>>) => Array<Event.Event>
  /** The mask as forward options (undefined until something is pruned). */
  readonly forwardOptions: () => ForwardOptions | undefined
  /** The state as JSON (pruned indices per layer and the criterion's running state). */
  readonly snapshot: () => PrunerSnapshot
  /** Replaces the state with a snapshot (checkpoint resume). */
  readonly restore: (snapshot: PrunerSnapshot) => void
  readonly dispose: () => void
}

/** The pruner's state as JSON. */
export interface PrunerSnapshot {
  readonly version: 1
  /** Per FF layer, the pruned indices (ascending). */
  readonly pruned: ReadonlyArray<ReadonlyArray<number>>
  readonly criterion: unknown
}

/** What the pruner needs from the model. */
export type PruningModel = Pick<Transformer.Transformer, "topology" | "activationStats">

/** Builds a pruner. `key` is the run's root key (choices use `Key.fold(Key.split(key, "pruning"), step)`). */
export const make = (options: {
  readonly model: PruningModel
  readonly pruning: Pruning
  readonly key: Key.Key
  /** Probe batch for criteria that need activations (the caller owns it). */
  readonly probe?: BatchTensors
}): Pruner => {
  const { model, pruning } = options
  const topology: Topology.Topology = model.topology
  const { schedule } = pruning
  const criterion = pruning.criterion.criterion
  if (criterion.count !== "rank") {
    throw new Bug(`pruning: criterion ${pruning.criterion.id} is not a rank criterion (it chooses by ${criterion.count})`)
  }
  const kept = topology.layers.map((l) => new Uint8Array(l.dFF).fill(1))
  let state: unknown = criterion.init(topology)
  let masks: Array<tf.Tensor1D> | undefined

  const forwardOptions = (): ForwardOptions | undefined => (masks === undefined ? undefined : { ffMask: masks })

  const rebuildMasks = () => {
    const next = kept.map((k) => tf.tensor1d(Float32Array.from(k), "float32"))
    masks?.forEach((m) => m.dispose())
    masks = next
  }

  const probeFor = (step: number): BatchTensors | undefined => {
    if (!criterion.needs.activations) return undefined
    if (options.probe === undefined) {
      throw new RunError({ step, message: `pruning: criterion ${pruning.criterion.id} needs activation statistics, but there is no probe batch` })
    }
    return options.probe
  }

  const update = (step: number, params: Readonly<Record<string, tf.Tensor>>): Array<Event.Event> => {
    const observing = criterion.observeEvery !== undefined && step % criterion.observeEvery === 0
    const due = step >= schedule.from && step <= schedule.until && ((step - schedule.from) % schedule.every === 0 || step === schedule.until)
    if (!observing && !due) return []
    const signals = Measure.measure(model, params, step, probeFor(step), forwardOptions())
    if (observing) state = criterion.observe(state, signals)
    if (!due) return []
    const target = topology.layers.map((l) => prunedCount(schedule, step, l.dFF))
    const already = kept.map((k) => k.reduce((n, x) => n + (1 - x), 0))
    const k = target.map((t, p) => Math.max(0, t - already[p]!))
    if (k.every((x) => x === 0)) return []
    const request: Selection.SelectRequest = {
      scope: "per-layer",
      fraction: targetFraction(schedule, step),
      k,
      total: k.reduce((a, b) => a + b, 0),
      eligible: kept.map((m) => Uint8Array.from(m))
    }
    const choice = criterion.select(state, signals, request, Key.fold(Key.split(options.key, "pruning"), step))
    const events: Array<Event.Event> = []
    choice.layers.forEach((l, p) => {
      if (l.indices.length !== k[p]) {
        throw new RunError({ step, message: `pruning: ${pruning.criterion.id} chose ${l.indices.length} neurons in layer ${p}, ${k[p]} were requested` })
      }
      for (const i of l.indices) {
        if (kept[p]![i] !== 1) throw new RunError({ step, message: `pruning: ${pruning.criterion.id} chose neuron ${i} of layer ${p}, which is already pruned` })
        kept[p]![i] = 0
      }
      if (l.indices.length === 0) return
      events.push(Event.Prune.make({
        step,
        layer: topology.layers[p]!.layer,
        criterion: pruning.criterion.id,
        fraction: request.fraction,
        pruned: already[p]! + l.indices.length,
        indices: [...l.indices],
        scores: l.scores.map((x) => (Number.isFinite(x) ? x : 0))
      }))
    })
    rebuildMasks()
    return events
  }

  return {
    kept: () => kept,
    update,
    forwardOptions,
    snapshot: () => ({
      version: 1,
      pruned: kept.map((k) => [...k.keys()].filter((i) => k[i] === 0)),
      criterion: Snapshot.encode(state)
    }),
    restore: (snapshot) => {
      if (snapshot.version !== 1) throw new UserError({ message: `pruning restore: unknown snapshot version ${String(snapshot.version)}` })
      if (snapshot.pruned.length !== kept.length) throw new UserError({ message: `pruning restore: snapshot has ${snapshot.pruned.length} layers, the model ${kept.length}` })
      kept.forEach((k, p) => {
        k.fill(1)
        for (const i of snapshot.pruned[p]!) {
          if (!Number.isInteger(i) || i < 0 || i >= k.length) throw new UserError({ message: `pruning restore: index ${i} out of range in layer ${p}` })
          k[i] = 0
        }
      })
      state = Snapshot.decode(snapshot.criterion)
      if (kept.some((k) => k.includes(0))) rebuildMasks()
      else {
        masks?.forEach((m) => m.dispose())
        masks = undefined
      }
    },
    dispose: () => {
      masks?.forEach((m) => m.dispose())
      masks = undefined
    }
  }
}

/** The pruner's state for checkpoints (named "pruning"; JSON only, the masks are rebuilt). */
export const state = (pruner: Pruner): HookState => ({
  name: "pruning",
  save: () => ({ json: pruner.snapshot(), tensors: {} }),
  load: (json) => pruner.restore(json as PrunerSnapshot)
})

/**
 * A trainer hook: grows the mask before due steps, emits `Prune` events, returns the mask for
 * every step; its state travels with checkpoints.
 */
export const hook = (pruner: Pruner): StepHook => ({
  state: state(pruner),
  before: (step, loop) =>
    Effect.gen(function*() {
      const events = yield* EventBus
      const out = yield* Effect.try({ try: () => pruner.update(step, loop.params), catch: RunError.from(step, "pruning") })
      for (const e of out) yield* events.emit(e)
      return pruner.forwardOptions()
    })
})

/** Options of `hooks/pruning`: the ramp of the cumulative mask and the rank criterion choosing what to prune. */
export const PruningOptions = Schema.Struct({
  ...PruningSchedule.fields,
  criterion: Schemas.PartRef.pipe(
    Schema.annotate({ description: "A rank criterion choosing which neurons to prune (default select/magnitude-smallest)" }),
    Schema.withDecodingDefaultKey(Effect.succeed({ use: "select/magnitude-smallest" }))
  )
})

/** What `rekindle plan` shows: the growth steps of the mask (target fraction, pruned per layer). */
export const describe = (pruning: Pruning, steps: number, dFF: number): HookDescription => {
  const updates = updateSteps(pruning.schedule, steps)
  return {
    summary: `pruning: ${pruning.criterion.id}, to ${pruning.schedule.final} of every layer; the mask may grow before ${updates.length} step(s):`,
    rows: updates.map((s) => `step ${s}: target ${+targetFraction(pruning.schedule, s).toFixed(4)} -> ${prunedCount(pruning.schedule, s, dFF)} pruned per layer`)
  }
}

/** The built `hooks/pruning` part: its pruning as built (for hosts and tests that inspect it). */
export interface PruningPart extends HookPart {
  readonly pruning: Pruning
}

/**
 * `hooks/pruning`: gradual pruning. Checks that the ramp ends inside training and that the
 * criterion chooses by rank; the hook's pruner is released with the run's scope.
 */
export const part = Plugin.part<"hooks">()({
  description: "Gradual pruning: a cumulative FF mask growing linearly from `from` to `until`, chosen by a rank criterion",
  options: PruningOptions,
  make: (options, build) =>
    Effect.gen(function*() {
      const context = yield* Plugin.runContext(build)
      const { criterion: ref, ...schedule } = options
      if (context.dFF === 0) return yield* new PluginError({ part: "hooks/pruning", message: "the model has no FF neurons (model.dFF is 0)" })
      if (schedule.until < schedule.from) {
        return yield* new PluginError({ part: "hooks/pruning", message: `until: the ramp ends (until = ${schedule.until}) before it starts (from = ${schedule.from})` })
      }
      if (schedule.until >= context.totalSteps) {
        return yield* new PluginError({ part: "hooks/pruning",
          message: `until: the final fraction is reached at step ${schedule.until}, but training runs steps 0..${context.totalSteps - 1} (train.steps = ${context.totalSteps})`
        })
      }
      const criterion = yield* context.part("criteria", ref, "criterion")
      if (criterion.count !== "rank") {
        return yield* new PluginError({ part: "hooks/pruning", message: `criterion: pruning needs a rank criterion (exact counts); ${ref.use} chooses by ${criterion.count}` })
      }
      const pruning: Pruning = { schedule, criterion: { id: ref.use, criterion } }
      const hookPart: PruningPart = {
        pruning,
        describe: (steps) => describe(pruning, steps, context.dFF),
        build: (run) =>
          Effect.acquireRelease(
            Effect.sync(() => make({ model: run.model, pruning, key: run.key, ...(run.probe !== undefined ? { probe: run.probe } : {}) })),
            (p) => Effect.sync(() => p.dispose())
          ).pipe(Effect.map(hook))
      }
      return hookPart
    })
})
