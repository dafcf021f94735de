/**
 * What a report shows, read from run folders: the run's events (`events.jsonl`, decoded with the
 * core Event schema; a torn or unknown line is skipped), `pipeline.json` and `manifest.json`,
 * reduced to plain JSON the page plots. A study folder is `study.json` (written by the study
 * runner) plus its variants' run folders; a folder of run folders without `study.json` is read
 * as a study of all of them.
 */
import { Event, Stats, UserError } from "@rekindle/core"
import { Effect, FileSystem, Path } from "effect"

/** One histogram at one step (probe output). */
export interface HistogramPoint {
  readonly step: number
  readonly name: string
  readonly layer: number
  readonly edges: ReadonlyArray<number>
  readonly counts: ReadonlyArray<number>
  readonly mean: number
  readonly std: number
}

/** One scalar at one step (probe output). */
export interface ScalarPoint {
  readonly step: number
  readonly name: string
  readonly layer: number | null
  readonly value: number
}

/** The last scatter of one name and layer. */
export interface ScatterData {
  readonly step: number
  readonly name: string
  readonly layer: number | null
  readonly x: ReadonlyArray<number>
  readonly y: ReadonlyArray<number>
  readonly pearson: number
}

/** What the report knows about one run. */
export interface RunData {
  readonly kind: "run"
  /** The run's name (pipeline name; shared by the seeds of a study variant). */
  readonly name: string
  /** The run folder's name. */
  readonly folder: string
  readonly status: "finished" | "failed" | "running" | "interrupted" | "unknown"
  readonly seed: number | null
  readonly steps: number | null
  readonly parameters: number | null
  readonly backend: string | null
  readonly startedAt: string | null
  readonly error: string | null
  /** Final eval loss (the last Eval, or RunFinished's). */
  readonly finalEvalLoss: number | null
  /** Mean train loss over the last 10% of steps (the last logged one if none falls there). */
  readonly tailLoss: number | null
  readonly train: ReadonlyArray<{ readonly step: number; readonly loss: number; readonly lr: number }>
  readonly eval: ReadonlyArray<{ readonly step: number; readonly loss: number; readonly accuracy: number }>
  readonly histograms: ReadonlyArray<HistogramPoint>
  readonly scalars: ReadonlyArray<ScalarPoint>
  readonly scatters: ReadonlyArray<ScatterData>
  /** Recycling events (without the indices): `k` requested, `recycled` the neurons actually recycled. */
  readonly recycles: ReadonlyArray<{
    readonly step: number
    readonly stage: number
    readonly layer: number
    readonly k: number
    readonly recycled: number
    readonly criterion: string
    readonly reinit: string
  }>
  /** Per layer, how many neurons were recycled how often (from the last Lineage event). */
  readonly recycleCounts: ReadonlyArray<{ readonly step: number; readonly layer: number; readonly edges: ReadonlyArray<number>; readonly counts: ReadonlyArray<number> }>
  readonly pipeline: unknown
}

/** One variant of a study. */
export interface VariantData {
  readonly name: string
  readonly seed: number | null
  readonly tags: Readonly<Record<string, unknown>>
  /** Folder relative to the study folder. */
  readonly folder: string
  readonly run: RunData | null
}

/** Runs sharing a name: mean ± sample std over seeds. */
export interface GroupData {
  readonly name: string
  readonly seeds: number
  readonly finalEvalLoss: { readonly mean: number | null; readonly std: number | null }
  readonly tailLoss: { readonly mean: number | null; readonly std: number | null }
}

/** What the report knows about a study. */
export interface StudyData {
  readonly kind: "study"
  readonly name: string
  readonly file: string | null
  readonly variants: ReadonlyArray<VariantData>
  readonly groups: ReadonlyArray<GroupData>
}

const finite = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x)

/** Reduces a run's events (and its pipeline/manifest JSON) to what the report plots. */
export const fromEvents = (
  events: ReadonlyArray<Event.Event>,
  meta: { readonly folder: string; readonly pipeline?: unknown; readonly manifest?: unknown }
): RunData => {
  const pipeline = (meta.pipeline ?? null) as Record<string, unknown> | null
  const manifest = (meta.manifest ?? null) as Record<string, unknown> | null
  let started: Event.EventOf<"RunStarted"> | undefined
  let finished: Event.EventOf<"RunFinished"> | undefined
  let failed: Event.EventOf<"RunFailed"> | undefined
  const train: Array<{ step: number; loss: number; lr: number }> = []
  const evals: Array<{ step: number; loss: number; accuracy: number }> = []
  const histograms: Array<HistogramPoint> = []
  const scalars: Array<ScalarPoint> = []
  const scatters = new Map<string, ScatterData>()
  const recycles: Array<RunData["recycles"][number]> = []
  const lineage = new Map<number, Event.EventOf<"Lineage">>()
  for (const e of events) {
    switch (e._tag) {
      case "RunStarted":
        started = e
        break
      case "TrainStep":
        if (finite(e.loss)) train.push({ step: e.step, loss: e.loss, lr: e.lr })
        break
      case "Eval":
        if (finite(e.loss)) evals.push({ step: e.step, loss: e.loss, accuracy: e.accuracy })
        break
      case "Histogram":
        histograms.push({ step: e.step, name: e.name, layer: e.layer ?? 0, edges: e.edges, counts: e.counts, mean: e.mean, std: e.std })
        break
      case "Scalar":
        if (finite(e.value)) scalars.push({ step: e.step, name: e.name, layer: e.layer ?? null, value: e.value })
        break
      case "Scatter": {
        const key = `${e.name}/${e.layer ?? ""}`
        const prev = scatters.get(key)
        if (prev === undefined || prev.step <= e.step) {
          scatters.set(key, { step: e.step, name: e.name, layer: e.layer ?? null, x: e.x, y: e.y, pearson: e.pearson })
        }
        break
      }
      case "Recycle":
        recycles.push({ step: e.step, stage: e.stage, layer: e.layer, k: e.k, recycled: e.indices.length, criterion: e.criterion, reinit: e.reinit })
        break
      case "Lineage":
        lineage.set(e.layer, e)
        break
      case "RunFinished":
        finished = e
        break
      case "RunFailed":
        failed = e
        break
    }
  }
  const steps = started?.steps ?? (finite(manifest?.["steps"]) ? manifest["steps"] : null)
  const last = steps ?? train.at(-1)?.step ?? 0
  const tail = train.filter((t) => t.step > last - Math.max(1, Math.ceil(last * 0.1)))
  const window = tail.length > 0 ? tail : train.slice(-1)
  const tailLoss = window.length > 0 ? window.reduce((a, t) => a + t.loss, 0) / window.length : null
  const finalEvalLoss = finished?.finalEvalLoss !== undefined && finite(finished.finalEvalLoss)
    ? finished.finalEvalLoss
    : evals.at(-1)?.loss ?? null
  const manifestStatus = manifest?.["status"]
  const status: RunData["status"] = finished !== undefined
    ? "finished"
    : failed !== undefined
    ? "failed"
    : manifestStatus === "finished" || manifestStatus === "failed" || manifestStatus === "running" || manifestStatus === "interrupted"
    ? manifestStatus
    : events.length > 0 ? "running" : "unknown"
  return {
    kind: "run",
    name: typeof pipeline?.["name"] === "string" ? pipeline["name"] : meta.folder,
    folder: meta.folder,
    status,
    seed: started?.seed ?? (finite(pipeline?.["seed"]) ? pipeline["seed"] : null),
    steps,
    parameters: started?.parameters ?? null,
    backend: started !== undefined
      ? `${started.backend.name}, ${started.backend.threads} thread${started.backend.threads === 1 ? "" : "s"}${started.backend.simd ? ", simd" : ""}`
      : null,
    startedAt: started?.time ?? (typeof manifest?.["startedAt"] === "string" ? manifest["startedAt"] : null),
    error: failed?.message ?? (typeof manifest?.["error"] === "string" ? manifest["error"] : null),
    finalEvalLoss,
    tailLoss,
    train,
    eval: evals,
    histograms,
    scalars,
    scatters: [...scatters.values()],
    recycles,
    recycleCounts: [...lineage.values()].sort((a, b) => a.layer - b.layer).map((l) => {
      const h = Stats.integerHistogram(l.resets)
      return { step: l.step, layer: l.layer, edges: h.edges, counts: h.counts }
    }),
    pipeline: meta.pipeline ?? null
  }
}

const readJson = (file: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    if (!(yield* fs.exists(file))) return undefined
    return JSON.parse(yield* fs.readFileString(file)) as unknown
  }).pipe(Effect.orElseSucceed(() => undefined))

const exists = (file: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    return yield* fs.exists(file).pipe(Effect.orElseSucceed(() => false))
  })

/** What a folder holds. */
export type FolderKind = "run" | "study" | "magnitudes"

/** Whether `dir` is a run folder (events.jsonl), a study (study.json, or run folders inside) or a magnitudes folder. */
export const detect = (dir: string): Effect.Effect<FolderKind, UserError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    if (!(yield* exists(dir))) return yield* new UserError({ message: `${dir}: no such folder` })
    if (yield* exists(path.join(dir, "magnitudes.json"))) return "magnitudes" as const
    if (yield* exists(path.join(dir, "events.jsonl"))) return "run" as const
    if (yield* exists(path.join(dir, "study.json"))) return "study" as const
    const names = yield* fs.readDirectory(dir).pipe(Effect.orElseSucceed(() => [] as Array<string>))
    for (const n of names) if (yield* exists(path.join(dir, n, "events.jsonl"))) return "study" as const
    return yield* new UserError({
      message: `${dir}: not a run or study folder (no events.jsonl, study.json or magnitudes.json here, and no run folders inside)`
    })
  })

/** A run folder's decoded events (core Event schema; torn or unknown lines skipped) and its JSON files. */
export interface RunFiles {
  readonly folder: string
  readonly events: ReadonlyArray<Event.Event>
  readonly pipeline?: unknown
  readonly manifest?: unknown
}

/** Reads one run folder's `events.jsonl`, `pipeline.json` and `manifest.json`. */
export const readRunFiles = (dir: string): Effect.Effect<RunFiles, UserError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const abs = path.resolve(dir)
    const file = path.join(abs, "events.jsonl")
    if (!(yield* exists(file))) return yield* new UserError({ message: `${dir}: not a run folder (no events.jsonl)` })
    const text = yield* fs.readFileString(file).pipe(Effect.mapError((e) => new UserError({ message: `${dir}: ${e.message}` })))
    const pipeline = yield* readJson(path.join(abs, "pipeline.json"))
    const manifest = yield* readJson(path.join(abs, "manifest.json"))
    return {
      folder: path.basename(abs),
      events: Event.decodeLines(text),
      ...(pipeline !== undefined ? { pipeline } : {}),
      ...(manifest !== undefined ? { manifest } : {})
    }
  })

/** Reads one run folder. */
export const readRun = (dir: string): Effect.Effect<RunData, UserError, FileSystem.FileSystem | Path.Path> =>
  Effect.map(readRunFiles(dir), (files) => fromEvents(files.events, files))

/** Mean and sample std (null when there is no value; std 0 for one). */
export const meanStd = (xs: ReadonlyArray<number>): { mean: number | null; std: number | null } => {
  if (xs.length === 0) return { mean: null, std: null }
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length
  const std = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0
  return { mean, std }
}

/** Groups variants by name (first-seen order), mean ± std over seeds. */
export const groups = (variants: ReadonlyArray<VariantData>): Array<GroupData> => {
  const by = new Map<string, Array<VariantData>>()
  for (const v of variants) by.set(v.name, [...(by.get(v.name) ?? []), v])
  return [...by].map(([name, vs]) => {
    const runs = vs.flatMap((v) => (v.run !== null ? [v.run] : []))
    return {
      name,
      seeds: vs.length,
      finalEvalLoss: meanStd(runs.flatMap((r) => (r.finalEvalLoss !== null ? [r.finalEvalLoss] : []))),
      tailLoss: meanStd(runs.flatMap((r) => (r.tailLoss !== null ? [r.tailLoss] : [])))
    }
  })
}

interface StudyJson {
  readonly name?: unknown
  readonly file?: unknown
  readonly variants?: ReadonlyArray<{ readonly name?: unknown; readonly seed?: unknown; readonly tags?: unknown; readonly dir?: unknown }>
}

/** Reads a study folder: `study.json`'s variants in order, or every run folder inside. */
export const readStudy = (dir: string): Effect.Effect<StudyData, UserError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const abs = path.resolve(dir)
    const study = (yield* readJson(path.join(abs, "study.json"))) as StudyJson | undefined
    const listed = Array.isArray(study?.variants) ? study.variants : undefined
    const entries: Array<{ name?: string; seed?: number; tags: Record<string, unknown>; folder: string }> = []
    if (listed !== undefined) {
      for (const v of listed) {
        if (typeof v?.dir !== "string") continue
        entries.push({
          folder: v.dir,
          tags: typeof v.tags === "object" && v.tags !== null ? (v.tags as Record<string, unknown>) : {},
          ...(typeof v.name === "string" ? { name: v.name } : {}),
          ...(finite(v.seed) ? { seed: v.seed } : {})
        })
      }
    } else {
      const names = [...(yield* fs.readDirectory(abs).pipe(Effect.orElseSucceed(() => [] as Array<string>)))].sort()
      for (const n of names) if (yield* exists(path.join(abs, n, "events.jsonl"))) entries.push({ folder: n, tags: {} })
    }
    if (entries.length === 0) return yield* new UserError({ message: `${dir}: a study folder without variants (study.json lists none and no run folders are inside)` })
    const variants: Array<VariantData> = []
    for (const e of entries) {
      const runDir = path.join(abs, e.folder)
      const run = (yield* exists(path.join(runDir, "events.jsonl"))) ? yield* readRun(runDir) : null
      variants.push({ name: e.name ?? run?.name ?? e.folder, seed: e.seed ?? run?.seed ?? null, tags: e.tags, folder: e.folder, run })
    }
    return {
      kind: "study",
      name: typeof study?.name === "string" ? study.name : path.basename(abs),
      file: typeof study?.file === "string" ? study.file : null,
      variants,
      groups: groups(variants)
    }
  })
