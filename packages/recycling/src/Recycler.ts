/**
 * The Recycler: the recycling stages of a run as one stateful object the trainer calls before
 * every update. It keeps how often each stage fired, immunity counters, every criterion's running
 * state, per-neuron lineage and smooth-reinit blend state, and it emits one `Recycle` event per FF
 * layer and firing (plus `Lineage` events). All numeric work is synchronous TF.js; failures are
 * thrown as `RunError`s (broken invariants) so the trainer stops with a clear message.
 *
 * Per step s the trainer calls, in this order:
 *   observe(s, params, probe?)     folds signals into criteria whose cadence hits s (no-op otherwise)
 *   runDue(s, { params, opt, optimizer, probe? }) -> { opt, events }   fires the due stages
 *   forwardOptions(s)              the blend state of smooth reinits for step s's loss (or undefined)
 */
import { Bug, type Criterion, Event, Key, type LineageView, type Optimizer, RunError, Selection, type Signals, Snapshot, UserError } from "@rekindle/core"
import { type BatchTensors, type ForwardOptions, Measure, type Transformer } from "@rekindle/model"
import { Tensors } from "@rekindle/engine"
import * as tf from "@tensorflow/tfjs-core"
import type { Stage } from "./Stage.ts"
import { Blends, type LayerBlendJson } from "./Blends.ts"
import * as Immunity from "./Immunity.ts"
import * as Invariants from "./Invariants.ts"
import * as Lineage from "./Lineage.ts"
import * as MagnitudesAfter from "./MagnitudesAfter.ts"
import * as ReadOnly from "./ReadOnly.ts"
import { reinitialize } from "./Apply.ts"
import { due } from "./RecyclingSchedule.ts"
import * as Selector from "./Selector.ts"
import type * as SignalHost from "./signals/Host.ts"
import { consumerOf } from "./signals/Consumers.ts"

/** What the recycler needs from the model. */
export type RecyclingModel = Pick<Transformer.Transformer, "topology" | "activationStats" | "initParam">

/** How to build a recycler. */
export interface RecyclerOptions {
  readonly model: RecyclingModel
  readonly stages: ReadonlyArray<Stage>
  /** The run's root key; selection and reinit keys are split from it. */
  readonly key: Key.Key
  /** Default probe batch for criteria that need activations (the caller owns it). */
  readonly probe?: BatchTensors
  /** Emit per-layer `Lineage` events after every firing (default true). */
  readonly lineageEvents?: boolean
  /**
   * The run's signal host: criteria that declared `signals` read their values from it (consumer
   * `recycling.<stage>.select` / `recycling.<stage>.shadow.<j>`).
   */
  readonly signals?: SignalHost.Host
}

/** What `runDue` needs from the training state. */
export interface RunInput {
  readonly params: Readonly<Record<string, tf.Variable>>
  readonly opt: Optimizer.OptState
  readonly optimizer: Optimizer.Optimizer
  /** Probe batch for this call (default: the recycler's). */
  readonly probe?: BatchTensors
}

/** The result of `runDue`: the optimizer state to continue with and the events to report. */
export interface RunResult {
  /**
   * The optimizer state after every policy (the input state itself when nothing fired or every
   * policy was `keep`). When it is a new state the caller installs it and disposes the input state
   * (`TrainLoop.setOptState` does); states in between are disposed here.
   */
  readonly opt: Optimizer.OptState
  readonly events: ReadonlyArray<Event.Event>
}

/** The recycler's state as JSON (blend tensors travel separately, see `blendTensors`). */
export interface RecyclerSnapshot {
  readonly version: 1
  readonly fired: ReadonlyArray<number>
  readonly immunity: unknown
  readonly lineage: unknown
  readonly criteria: unknown
  readonly blends: ReadonlyArray<LayerBlendJson>
}

/** The recycler (see the module comment for the call order). */
export interface Recycler {
  readonly stages: ReadonlyArray<Stage>
  /** Whether any stage or criterion needs activation statistics (so a probe batch is required). */
  readonly needsProbe: boolean
  readonly observe: (step: number, params: Readonly<Record<string, tf.Tensor>>, probe?: BatchTensors) => void
  readonly runDue: (step: number, input: RunInput) => RunResult
  readonly forwardOptions: (step: number) => ForwardOptions | undefined
  /** Firings of each stage so far. */
  readonly fired: () => ReadonlyArray<number>
  readonly lineageView: () => LineageView
  /** One `Lineage` event per FF layer with the current magnitudes. */
  readonly lineageEvents: (step: number, params: Readonly<Record<string, tf.Tensor>>) => Array<Event.Event>
  readonly snapshot: () => RecyclerSnapshot
  /** The blend tensors by name (owned by the recycler; copy or serialize them, do not dispose). */
  readonly blendTensors: () => Record<string, tf.Tensor>
  /** Replaces the state with a snapshot and its blend tensors (copied). */
  readonly restore: (snapshot: RecyclerSnapshot, tensors?: Readonly<Record<string, tf.Tensor>>) => void
  /** Disposes the blend tensors. */
  readonly dispose: () => void
}

interface Instance {
  readonly stage: number
  /** -1 = the acting criterion, j = shadow j. */
  readonly shadow: number
  readonly id: string
  readonly criterion: Criterion<any>
}

const mean = (xs: ReadonlyArray<number>) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length)

const disposeReplaced = (old: Optimizer.OptState, next: Optimizer.OptState) => {
  const keep = new Set<tf.Tensor>()
  for (const slot of Object.values(next.slots)) for (const t of Object.values(slot)) keep.add(t)
  for (const slot of Object.values(old.slots)) for (const t of Object.values(slot)) if (!keep.has(t)) t.dispose()
}

/** Builds a recycler for a run's stages. */
export const make = (options: RecyclerOptions): Recycler => {
  const { model, stages } = options
  const topology = model.topology
  stages.forEach((s, i) => {
    if (s.index !== i) throw new Bug(`recycler: stage at position ${i} has index ${s.index}`)
  })
  const instances: Array<Instance> = stages.flatMap((s) => [
    { stage: s.index, shadow: -1, id: s.criterion.id, criterion: s.criterion.criterion },
    ...s.shadow.map((sh, j) => ({ stage: s.index, shadow: j, id: sh.id, criterion: sh.criterion }))
  ])
  const needsProbe = instances.some((c) => c.criterion.needs.activations)

  let fired: Array<number> = stages.map(() => 0)
  let immunity = Immunity.make(stages.length, topology)
  let lineage = Lineage.make(topology)
  let states: Array<unknown> = instances.map((c) => c.criterion.init(topology))
  const blends = new Blends(topology)

  const stateOf = (stage: number, shadow: number) => states[instances.findIndex((c) => c.stage === stage && c.shadow === shadow)]

  const probeFor = (step: number, who: ReadonlyArray<Instance>, given: BatchTensors | undefined): BatchTensors | undefined => {
    const needing = who.filter((c) => c.criterion.needs.activations)
    if (needing.length === 0) return undefined
    const probe = given ?? options.probe
    if (probe === undefined) {
      throw new RunError({ step, message: `recycling: criterion ${needing[0]!.id} needs activation statistics, but the recycler has no probe batch` })
    }
    return probe
  }

  // tidyValue: the signals are readbacks (typed arrays), which `tidy` would walk element by element
  const signalsAt = (step: number, params: Readonly<Record<string, tf.Tensor>>, probe: BatchTensors | undefined): Signals =>
    Tensors.tidyValue(() => {
      const forward = probe === undefined ? undefined : blends.active ? blendOptionsFor(step) : undefined
      return Measure.measure(model, params, step, probe, forward)
    })

  /** The measured signals plus the signal-plugin values of one criterion instance (read now: clears its mean windows). */
  const withValues = (signals: Signals, c: Instance): Signals => {
    const host = options.signals
    const consumer = consumerOf(c.stage, c.shadow)
    if (host === undefined || !host.has(consumer)) return signals
    const values = host.read(consumer)
    return { step: signals.step, layers: signals.layers.map((l, p) => ({ ...l, values: values[p]! })) }
  }
  const instanceOf = (stage: number, shadow: number) => instances.find((c) => c.stage === stage && c.shadow === shadow)!

  /** Blend options built inside the caller's tidy (not cached). */
  const blendOptionsFor = (step: number): ForwardOptions => ({
    blend: topology.layers.map((_, p) => {
      const b = blends.tensors()
      const oldWin = b[`blend.${p}.oldWin`]
      if (oldWin === undefined) return undefined
      const oldBin = b[`blend.${p}.oldBin`]
      return {
        oldWin: oldWin as tf.Tensor2D,
        oldWout: b[`blend.${p}.oldWout`] as tf.Tensor2D,
        ...(oldBin !== undefined ? { oldBin: oldBin as tf.Tensor1D } : {}),
        alpha: tf.tensor1d(blends.alpha(p, step), "float32")
      }
    })
  })

  const observe = (step: number, params: Readonly<Record<string, tf.Tensor>>, probe?: BatchTensors): void => {
    const now = instances.filter((c) => c.criterion.observeEvery !== undefined && step % c.criterion.observeEvery === 0)
    if (now.length === 0) return
    const signals = signalsAt(step, params, probeFor(step, now, probe))
    for (const c of now) {
      const i = instances.indexOf(c)
      const guarded = ReadOnly.guard(withValues(signals, c))
      states[i] = c.criterion.observe(states[i], guarded.signals)
      guarded.check(c.id)
    }
  }

  const fire = (stage: Stage, step: number, input: RunInput, opt: Optimizer.OptState) => {
    const own = instances.filter((c) => c.stage === stage.index)
    const signals = signalsAt(step, input.params, probeFor(step, own, input.probe))
    const eligible = Selector.intersect(Immunity.eligible(immunity, stage.index), blends.eligible(step))
    const request = Selector.request(stage, topology, eligible)
    const choice = Selector.choose(
      stage,
      { main: stateOf(stage.index, -1), shadows: stage.shadow.map((_, j) => stateOf(stage.index, j)) },
      (shadow) => withValues(signals, instanceOf(stage.index, shadow)),
      request,
      options.key,
      step
    )
    const where = { step, stage: stage.index, criterion: stage.criterion.id }
    Invariants.checkSelection(where, topology, request, stage.criterion.criterion.count, choice.selection)
    const reinitKey = Selector.keyFor(options.key, "reinit", stage.index, step)
    const next = reinitialize({
      step,
      stage,
      topology,
      params: input.params,
      selection: choice.selection,
      key: reinitKey,
      initial: model.initParam,
      opt,
      optimizer: input.optimizer,
      blends
    })
    // slices-only: the magnitudes outside the chosen neurons are the ones measured before
    const before = stage.reinit.reinitializer.slicesOnly ? signals.layers.map((l) => l.magnitude) : undefined
    const after = MagnitudesAfter.after(topology, input.params, choice.selection, before)
    const events: Array<Event.Event> = choice.selection.layers.map((l, p) =>
      Event.Recycle.make({
        step,
        stage: stage.index,
        layer: topology.layers[p]!.layer,
        criterion: stage.criterion.id,
        reinit: stage.reinit.id,
        k: request.scope === "global" ? request.total : request.k[p]!,
        indices: [...l.indices],
        scores: [...l.scores],
        magnitudeBefore: mean(l.indices.map((i) => signals.layers[p]!.magnitude[i]!)),
        magnitudeAfter: mean(l.indices.map((i) => after[p]![i]!)),
        key: reinitKey.path,
        optimizerState: stage.optimizerState,
        shadow: Selector.overlaps(choice, p)
      })
    )
    immunity = Immunity.round(immunity, stage.index, choice.selection, stage.immunity)
    lineage = Lineage.record(lineage, step, choice.selection)
    fired = fired.map((n, i) => (i === stage.index ? n + 1 : n))
    if (Selection.count(choice.selection) > 0) {
      states = states.map((s, i) => {
        const forget = instances[i]!.criterion.forget
        return forget === undefined ? s : forget(s, choice.selection)
      })
    }
    if (options.lineageEvents ?? true) events.push(...Lineage.events(lineage, topology, step, after))
    return { opt: next, events }
  }

  const runDue = (step: number, input: RunInput): RunResult => {
    const now = due(stages, step, fired)
    if (now.length === 0) return { opt: input.opt, events: [] }
    let opt = input.opt
    const events: Array<Event.Event> = []
    for (const stage of now) {
      const r = fire(stage, step, input, opt)
      if (r.opt !== opt && opt !== input.opt) disposeReplaced(opt, r.opt)
      opt = r.opt
      events.push(...r.events)
    }
    return { opt, events }
  }

  return {
    stages,
    needsProbe,
    observe,
    runDue,
    forwardOptions: (step) => blends.forwardOptions(step),
    fired: () => fired,
    lineageView: () => Lineage.view(lineage),
    lineageEvents: (step, params) => Lineage.events(lineage, topology, step, Measure.magnitudes(topology, params)),
    snapshot: () => ({
      version: 1,
      fired: [...fired],
      immunity: Snapshot.encode(immunity),
      lineage: Snapshot.encode(lineage),
      criteria: Snapshot.encode(states),
      blends: blends.toJson()
    }),
    blendTensors: () => blends.tensors(),
    restore: (snapshot, tensors = {}) => {
      if (snapshot.version !== 1) throw new UserError({ message: `recycler restore: unknown snapshot version ${String(snapshot.version)}` })
      if (snapshot.fired.length !== stages.length) {
        throw new UserError({ message: `recycler restore: snapshot has ${snapshot.fired.length} stages, the run has ${stages.length}` })
      }
      fired = [...snapshot.fired]
      immunity = Snapshot.decode(snapshot.immunity) as Immunity.Immunity
      lineage = Snapshot.decode(snapshot.lineage) as Lineage.Lineage
      states = Snapshot.decode(snapshot.criteria) as Array<unknown>
      blends.restore(snapshot.blends, tensors)
    },
    dispose: () => blends.dispose()
  }
}
