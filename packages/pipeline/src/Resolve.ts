/**
 * Resolution: a decoded pipeline's part refs are looked up in the registry and their inline
 * options decoded by each part's own schema; cross-field rules are checked (a stage must fire at
 * least once, the backend must exist). Every problem is collected, each with its full field path.
 * The result holds everything needed to instantiate the parts, plus the fully defaulted pipeline
 * as JSON (`json`), which names and hashes the run.
 */
import type { Plugin } from "@rekindle/core"
import type { Problem } from "@rekindle/core"
import type { UserError } from "@rekindle/core"
import { firingSteps, type OptimizerStatePolicy, type StageSchedule } from "@rekindle/recycling"
import { type BackendRequest, type MidpointLossConfig, type PruningSchedule, type RetrainSettings, subsetCriteria } from "@rekindle/training"
import { DataConfig } from "@rekindle/data"
import { Effect, Result, Schema } from "effect"
import { decode, subPath, userError } from "./Problems.ts"
import type { Entry, Registry } from "./Registry.ts"
import { PipelineSpec } from "./Spec.ts"

/** A part ref resolved against the registry. */
export interface ResolvedPart<K extends Plugin.PartKind = Plugin.PartKind> {
  readonly id: string
  /** Field path of the ref in the pipeline (`recycling.0.select`). */
  readonly path: string
  readonly entry: Entry<K>
  /** Options decoded by the part's schema (defaults applied). */
  readonly options: unknown
  /** The ref as JSON with every option filled in (`{ use, ...options }`). */
  readonly json: Record<string, unknown>
}

/** A resolved recycling stage. */
export interface ResolvedStage {
  readonly index: number
  /** The schedule with `from` filled in. */
  readonly schedule: StageSchedule
  readonly fraction: number
  readonly scope: "per-layer" | "global"
  readonly optimizerState: OptimizerStatePolicy
  readonly immunity: number
  readonly select: ResolvedPart<"criteria">
  readonly reinit: ResolvedPart<"reinitializers">
  readonly shadow: ReadonlyArray<ResolvedPart<"criteria">>
}

/** Resolved section `pruning`. */
export interface ResolvedPruning {
  readonly schedule: PruningSchedule
  readonly criterion: ResolvedPart<"criteria">
}

/** Resolved section `retrain`: the settings, the subset's criterion and the fresh optimizer's ref. */
export interface ResolvedRetrain {
  readonly settings: RetrainSettings
  /** The peak learning rate of the fresh optimizer (the section's `lr`, else the run optimizer's). */
  readonly lr: number
  /** Absent for subset `all`. */
  readonly criterion?: ResolvedPart<"criteria">
  /** The run optimizer's part with `lr` and a `warmup` schedule of `settings.warmup` steps. */
  readonly optimizer: ResolvedPart<"optimizers">
}

/** A fully resolved pipeline (parts known and their options decoded, nothing built yet). */
export interface Resolved {
  /** The decoded pipeline (defaults applied; part options still raw). */
  readonly spec: PipelineSpec
  readonly backend: BackendRequest
  readonly optimizer: ResolvedPart<"optimizers">
  readonly stages: ReadonlyArray<ResolvedStage>
  readonly probes: ReadonlyArray<ResolvedPart<"probes">>
  readonly sinks: ReadonlyArray<ResolvedPart<"sinks">>
  readonly pruning?: ResolvedPruning
  readonly retrain?: ResolvedRetrain
  readonly midpointLoss?: MidpointLossConfig
  /** The fully defaulted pipeline as plain JSON. */
  readonly json: Record<string, unknown>
}

const jsonSafe = (value: unknown): unknown => JSON.parse(JSON.stringify(value ?? null))

const resolvePart = <K extends Plugin.PartKind>(
  registry: Registry,
  kind: K,
  ref: { readonly use: string; readonly [k: string]: unknown },
  path: string,
  problems: Array<Problem>,
  omit: ReadonlyArray<string> = []
): ResolvedPart<K> | undefined => {
  const found = registry.lookup(kind, ref.use)
  if (typeof found === "string") {
    problems.push({ path: subPath(path, "use"), message: found })
    return undefined
  }
  const raw: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(ref)) if (k !== "use" && !omit.includes(k)) raw[k] = v
  if (found.optionNames.length === 0 && Object.keys(raw).length > 0) {
    // an empty Struct accepts any object, so excess keys must be caught here
    for (const k of Object.keys(raw)) problems.push({ path: subPath(path, k), message: `unknown option (${found.id} takes no options)` })
    return undefined
  }
  const r = decode(found.part.options, raw, path, "option")
  if (Result.isFailure(r)) {
    problems.push(...r.failure)
    return undefined
  }
  let encoded: unknown
  try {
    encoded = Schema.encodeUnknownSync(found.part.options as Schema.Codec<unknown, unknown>)(r.success)
  } catch {
    encoded = raw
  }
  return {
    id: found.id,
    path,
    entry: found,
    options: r.success,
    json: { use: found.id, ...(jsonSafe(encoded) as Record<string, unknown>) }
  }
}

const neverFires = (schedule: StageSchedule, steps: number): string => {
  if (schedule.until !== undefined && schedule.until < schedule.from) {
    return `never fires: until (${schedule.until}) is before from (${schedule.from})`
  }
  return `never fires: its first step would be ${schedule.from}, but training runs steps 0..${steps - 1} (train.steps = ${steps})`
}

const isRef = (u: unknown): u is { readonly use: string; readonly [k: string]: unknown } =>
  typeof u === "object" && u !== null && !Array.isArray(u) && typeof (u as { use?: unknown }).use === "string"

const listAt = (u: unknown, key: string): ReadonlyArray<unknown> => {
  const v = typeof u === "object" && u !== null ? (u as Record<string, unknown>)[key] : undefined
  return Array.isArray(v) ? v : []
}

const at = (u: unknown, key: string): unknown => (typeof u === "object" && u !== null ? (u as Record<string, unknown>)[key] : undefined)

/** The part refs present in an undecoded pipeline (for reporting problems when decoding failed). */
const rawRefs = (input: unknown) => {
  const out: Array<{ kind: Plugin.PartKind; ref: { readonly use: string }; path: string; omit: ReadonlyArray<string> }> = []
  const add = (kind: Plugin.PartKind, u: unknown, path: string, omit: ReadonlyArray<string> = []) => {
    if (isRef(u)) out.push({ kind, ref: u, path, omit })
  }
  add("optimizers", at(input, "optimizer"), "optimizer")
  listAt(input, "recycling").forEach((st, i) => {
    add("criteria", at(st, "select"), `recycling.${i}.select`, ["fraction"])
    add("reinitializers", at(st, "reinit"), `recycling.${i}.reinit`)
    listAt(st, "shadow").forEach((sh, j) => add("criteria", sh, `recycling.${i}.shadow.${j}`))
  })
  add("criteria", at(at(input, "pruning"), "criterion"), "pruning.criterion")
  listAt(input, "probes").forEach((p, i) => add("probes", p, `probes.${i}`))
  listAt(input, "log").forEach((p, i) => add("sinks", p, `log.${i}`))
  return out
}

const checkBackend = (registry: Registry, name: string, path: string, problems: Array<Problem>) => {
  if (!registry.backendNames.includes(name)) {
    problems.push({ path, message: `unknown backend "${name}"; known: ${registry.backendNames.join(", ")}` })
  }
}

/** Problems in document order of their paths (stable for equal paths). */
const sortByPath = (problems: ReadonlyArray<Problem>): Array<Problem> => {
  const order = ["name", "seed", "backend", "data", "model", "optimizer", "train", "recycling", "pruning", "retrain", "midpointLoss", "probes", "log"]
  const rank = (p: Problem) => {
    const i = order.indexOf(p.path.split(".")[0]!)
    return i < 0 ? order.length : i
  }
  return problems.map((p, i) => ({ p, i })).sort((a, b) => rank(a.p) - rank(b.p) || a.i - b.i).map((x) => x.p)
}

/** Drops a `.ts` pipeline's `plugins` (plugin values, registered by the host, not part of the spec). */
const withoutPlugins = (input: unknown): unknown => {
  if (typeof input !== "object" || input === null || !("plugins" in input)) return input
  const { plugins, ...rest } = input as Record<string, unknown>
  const values = Array.isArray(plugins) && plugins.every((p) => typeof p === "object" && p !== null && "meta" in p)
  return values ? rest : input
}

const noNeurons = (spec: PipelineSpec, path: string, problems: Array<Problem>): boolean => {
  if (spec.model.dFF > 0) return false
  problems.push({ path, message: "the model has no FF neurons (model.dFF is 0)" })
  return true
}

/** Section `pruning`: the ramp must end inside training; the criterion must exist. */
const resolvePruning = (registry: Registry, spec: PipelineSpec, problems: Array<Problem>): ResolvedPruning | undefined => {
  const p = spec.pruning
  if (p === undefined) return undefined
  const { criterion: ref, ...schedule } = p
  let ok = !noNeurons(spec, "pruning", problems)
  if (schedule.until < schedule.from) {
    problems.push({ path: "pruning.until", message: `the ramp ends (until = ${schedule.until}) before it starts (from = ${schedule.from})` })
    ok = false
  } else if (schedule.until >= spec.train.steps) {
    problems.push({
      path: "pruning.until",
      message: `the final fraction is reached at step ${schedule.until}, but training runs steps 0..${spec.train.steps - 1} (train.steps = ${spec.train.steps})`
    })
    ok = false
  }
  const criterion = resolvePart(registry, "criteria", ref, "pruning.criterion", problems)
  return ok && criterion !== undefined ? { schedule, criterion } : undefined
}

/** Section `retrain`: the window must fit in training; the run optimizer must take lr and schedule. */
const resolveRetrain = (
  registry: Registry,
  spec: PipelineSpec,
  main: ResolvedPart<"optimizers">,
  problems: Array<Problem>
): ResolvedRetrain | undefined => {
  const r = spec.retrain
  if (r === undefined) return undefined
  let ok = !noNeurons(spec, "retrain", problems)
  if (r.at + r.steps > spec.train.steps) {
    problems.push({
      path: "retrain.steps",
      message: `retraining runs steps ${r.at}..${r.at + r.steps - 1}, but training runs steps 0..${spec.train.steps - 1} (train.steps = ${spec.train.steps})`
    })
    ok = false
  }
  const criterion = r.subset === "all"
    ? undefined
    : resolvePart(registry, "criteria", { use: subsetCriteria[r.subset] }, "retrain.subset", problems)
  if (r.subset !== "all" && criterion === undefined) ok = false
  const missing = ["lr", "schedule"].filter((k) => !main.entry.optionNames.includes(k))
  if (missing.length > 0) {
    problems.push({ path: "retrain", message: `the optimizer ${main.id} has no ${missing.join("/")} option, so retraining cannot build a fresh one with a warm-up` })
    return undefined
  }
  const lr = r.lr ?? main.json["lr"]
  if (typeof lr !== "number") {
    problems.push({ path: "retrain.lr", message: `the optimizer ${main.id} has no numeric lr to default to; give retrain.lr` })
    return undefined
  }
  const optimizer = resolvePart(
    registry,
    "optimizers",
    { ...main.json, use: main.id, lr, schedule: { kind: "warmup", warmupSteps: r.warmup } },
    "retrain",
    problems
  )
  if (!ok || optimizer === undefined) return undefined
  return { settings: r, lr, ...(criterion !== undefined ? { criterion } : {}), optimizer }
}

/** Resolves a pipeline value (already overridden, not yet decoded); every problem is reported. */
export const resolve = (registry: Registry, input: unknown): Effect.Effect<Resolved, UserError> =>
  Effect.suspend(() => {
    const raw = withoutPlugins(input)
    const decoded = decode(PipelineSpec, raw)
    if (Result.isFailure(decoded)) {
      // still check the part refs that can be found, so every problem is reported at once
      const more: Array<Problem> = []
      for (const r of rawRefs(raw)) resolvePart(registry, r.kind, r.ref, r.path, more, r.omit)
      const b = at(raw, "backend")
      const name = typeof b === "string" ? b : at(b, "name")
      if (typeof name === "string") checkBackend(registry, name, typeof b === "string" ? "backend" : "backend.name", more)
      return Effect.fail(userError("invalid pipeline:", sortByPath([...decoded.failure, ...more])))
    }
    const spec = decoded.success
    const problems: Array<Problem> = []

    const backend: BackendRequest = typeof spec.backend === "string" ? { name: spec.backend } : spec.backend
    checkBackend(registry, backend.name, typeof spec.backend === "string" ? "backend" : "backend.name", problems)
    // the data package's own schema has the last word on the data section (cross-field rules)
    const data = decode(DataConfig.DataConfig, spec.data, "data")
    if (Result.isFailure(data)) problems.push(...data.failure)

    const optimizer = resolvePart(registry, "optimizers", spec.optimizer, "optimizer", problems)
    const stages: Array<ResolvedStage> = []
    spec.recycling.forEach((st, index) => {
      const path = `recycling.${index}`
      const schedule: StageSchedule = { ...st.schedule, from: st.schedule.from ?? st.schedule.every }
      if (firingSteps(schedule, spec.train.steps).length === 0) {
        problems.push({ path: `${path}.schedule`, message: neverFires(schedule, spec.train.steps) })
      }
      const select = resolvePart(registry, "criteria", st.select, `${path}.select`, problems, ["fraction"])
      const reinit = resolvePart(registry, "reinitializers", st.reinit, `${path}.reinit`, problems)
      const shadow = st.shadow.map((s, j) => resolvePart(registry, "criteria", s, `${path}.shadow.${j}`, problems))
      if (select !== undefined && reinit !== undefined && shadow.every((s) => s !== undefined)) {
        stages.push({
          index,
          schedule,
          fraction: st.select.fraction,
          scope: st.scope,
          optimizerState: st.optimizerState,
          immunity: st.immunity,
          select,
          reinit,
          shadow: shadow as Array<ResolvedPart<"criteria">>
        })
      }
    })
    const pruning = resolvePruning(registry, spec, problems)
    const retrain = optimizer === undefined ? undefined : resolveRetrain(registry, spec, optimizer, problems)
    if (spec.midpointLoss !== undefined && spec.model.dFF === 0) {
      problems.push({ path: "midpointLoss", message: "the model has no FF neurons (model.dFF is 0)" })
    }
    const probes = spec.probes.map((p, i) => resolvePart(registry, "probes", p, `probes.${i}`, problems))
    const sinks = spec.log.map((p, i) => resolvePart(registry, "sinks", p, `log.${i}`, problems))
    if (problems.length > 0 || optimizer === undefined) return Effect.fail(userError("invalid pipeline:", problems))

    const json: Record<string, unknown> = {
      ...(jsonSafe(spec) as Record<string, unknown>),
      backend,
      optimizer: optimizer.json,
      recycling: stages.map((s, i) => ({
        ...(jsonSafe(spec.recycling[i]) as Record<string, unknown>),
        schedule: s.schedule,
        select: { ...s.select.json, fraction: s.fraction },
        reinit: s.reinit.json,
        shadow: s.shadow.map((x) => x.json)
      })),
      ...(pruning !== undefined ? { pruning: { ...(jsonSafe(pruning.schedule) as Record<string, unknown>), criterion: pruning.criterion.json } } : {}),
      probes: probes.map((p) => p!.json),
      log: sinks.map((p) => p!.json)
    }
    return Effect.succeed({
      spec,
      backend,
      optimizer,
      stages,
      probes: probes as Array<ResolvedPart<"probes">>,
      sinks: sinks as Array<ResolvedPart<"sinks">>,
      ...(pruning !== undefined ? { pruning } : {}),
      ...(retrain !== undefined ? { retrain } : {}),
      ...(spec.midpointLoss !== undefined ? { midpointLoss: spec.midpointLoss } : {}),
      json
    })
  })
