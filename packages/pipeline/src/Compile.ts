/**
 * Compilation: a resolved pipeline becomes a `RunPlan` (packages/training/src/RunPlan.ts) with
 * every plugin part instantiated by its `make(options, { totalSteps })`. Sinks are not acquired
 * here (they need the run folder); the plan carries their `acquire` effects instead.
 */
import { type BackendProvider, type Plugin, UserError } from "@rekindle/core"
import type { Stage } from "@rekindle/recycling"
import { type RunPlan, runLength } from "@rekindle/training"
import { Effect, Schema } from "effect"
import type { Registry } from "./Registry.ts"
import { type Resolved, type ResolvedPart, resolve } from "./Resolve.ts"

const build = <K extends Exclude<Plugin.PartKind, "sinks">>(
  part: ResolvedPart<K>,
  context: Plugin.BuildContext
): Effect.Effect<Plugin.PartProducts[K], UserError> =>
  (part.entry.part.make(part.options, context) as unknown as Effect.Effect<Plugin.PartProducts[K], { readonly message: string }>).pipe(
    Effect.mapError((e) =>
      new UserError({
        message: `${part.path} (${part.id}): ${e.message}`,
        problems: [{ path: part.path, message: `${part.id}: ${e.message}` }]
      })
    )
  )

/** Instantiates every part of a resolved pipeline. */
export const instantiate = (resolved: Resolved): Effect.Effect<RunPlan, UserError> =>
  Effect.gen(function*() {
    const { spec } = resolved
    const context: Plugin.BuildContext = { totalSteps: spec.train.steps }
    const optimizer = yield* build(resolved.optimizer, context)
    const recycling: Array<Stage.Stage> = []
    for (const s of resolved.stages) {
      const criterion = yield* build(s.select, context)
      const reinitializer = yield* build(s.reinit, context)
      const shadow: Array<Stage.Stage["shadow"][number]> = []
      for (const sh of s.shadow) shadow.push({ id: sh.id, criterion: yield* build(sh, context) })
      recycling.push({
        index: s.index,
        schedule: s.schedule,
        criterion: { id: s.select.id, criterion },
        fraction: s.fraction,
        scope: s.scope,
        reinit: { id: s.reinit.id, reinitializer },
        optimizerState: s.optimizerState,
        immunity: s.immunity,
        shadow
      })
    }
    let pruning: RunPlan["pruning"]
    if (resolved.pruning !== undefined) {
      const ref = resolved.pruning.criterion
      const criterion = yield* build(ref, context)
      if (criterion.count !== "rank") {
        return yield* new UserError({
          message: `pruning.criterion (${ref.id}): pruning needs a rank criterion (exact counts); ${ref.id} chooses by ${criterion.count}`,
          problems: [{ path: ref.path, message: `${ref.id} chooses by ${criterion.count}; pruning needs a rank criterion (exact counts)` }]
        })
      }
      pruning = { schedule: resolved.pruning.schedule, criterion: { id: ref.id, criterion } }
    }
    let retrain: RunPlan["retrain"]
    if (resolved.retrain !== undefined) {
      const r = resolved.retrain
      const optimizer = yield* build(r.optimizer, context)
      const criterion = r.criterion === undefined ? undefined : { id: r.criterion.id, criterion: yield* build(r.criterion, context) }
      retrain = {
        at: r.settings.at,
        steps: r.settings.steps,
        subset: r.settings.subset,
        fraction: r.settings.fraction,
        then: r.settings.then,
        lr: r.lr,
        optimizer,
        ...(criterion !== undefined ? { criterion } : {})
      }
    }
    const probes: Array<RunPlan["probes"][number]> = []
    for (const p of resolved.probes) probes.push({ id: p.id, probe: yield* build(p, context) })
    const sinks: RunPlan["sinks"] = resolved.sinks.map((s) => ({
      id: s.id,
      acquire: s.entry.part.make(s.options, context) as RunPlan["sinks"][number]["acquire"]
    }))
    const { vocabSize, ...model } = spec.model
    const plan: RunPlan = {
      name: spec.name,
      seed: spec.seed,
      backend: resolved.backend,
      data: spec.data,
      model: vocabSize === undefined ? model : { ...model, vocabSize },
      optimizer: { id: resolved.optimizer.id, optimizer },
      // retraining that stops ends the run early; schedules keep the pipeline's train.steps as their length
      train: { ...spec.train, steps: runLength(retrain, spec.train.steps) },
      recycling,
      ...(pruning !== undefined ? { pruning } : {}),
      ...(retrain !== undefined ? { retrain } : {}),
      ...(resolved.midpointLoss !== undefined ? { midpointLoss: resolved.midpointLoss } : {}),
      probes,
      sinks,
      resolved: resolved.json
    }
    return plan
  })

/** Decodes, resolves and instantiates a pipeline value in one go. */
export const compile = (registry: Registry, input: unknown): Effect.Effect<RunPlan, UserError> =>
  Effect.flatMap(resolve(registry, input), instantiate)

/** Builds every backend part of the registry (with default options), for the trainer. */
export const backendProviders = (registry: Registry): Effect.Effect<ReadonlyArray<BackendProvider>, UserError> =>
  Effect.forEach(registry.ofKind("backends"), (entry) =>
    Effect.gen(function*() {
      const options = yield* Schema.decodeUnknownEffect(entry.part.options as Schema.Codec<unknown, unknown>)({}).pipe(
        Effect.mapError((e) => new UserError({ message: `${entry.id}: default options do not decode: ${e.message}` }))
      )
      return yield* (entry.part.make(options, { totalSteps: 0 }) as unknown as Effect.Effect<BackendProvider, { readonly message: string }>)
        .pipe(Effect.mapError((e) => new UserError({ message: `${entry.id}: ${e.message}` })))
    }))
