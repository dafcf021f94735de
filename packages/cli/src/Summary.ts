/**
 * Summaries of finished runs, read back from their folders (`events.jsonl`, `pipeline.json`,
 * `manifest.json`): final eval loss and mean training loss over the last 10% of steps. Studies
 * and `rekindle compare` group them by configuration (the resolved pipeline with the seed left
 * out), show the fields that differ between groups, and report mean ± std over seeds.
 */
import { UserError } from "@rekindle/core/Errors"
import type { Event } from "@rekindle/core"
import { hashOf, stableStringify } from "@rekindle/run/RunFolder"
import { Effect, FileSystem, Path } from "effect"
import * as Lazy from "./Lazy.ts"

/** What a run folder says about its run. */
export interface RunSummary {
  readonly dir: string
  readonly name: string
  readonly seed: number | undefined
  readonly status: "finished" | "failed" | "running" | "unknown"
  readonly steps: number | undefined
  readonly finalEvalLoss: number | undefined
  /** Mean TrainStep loss over the last 10% of steps (the last logged one if none falls there). */
  readonly tailLoss: number | undefined
  /** The resolved pipeline without its seed (`undefined` without pipeline.json). */
  readonly config: Record<string, unknown> | undefined
  /** What ran it, from the manifest: backend and thread count, git commit (for mixed-group warnings). */
  readonly ranOn: { readonly backend: string | undefined; readonly git: string | undefined }
}

const readJson = (file: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    if (!(yield* fs.exists(file))) return undefined
    return JSON.parse(yield* fs.readFileString(file)) as Record<string, unknown>
  }).pipe(Effect.orElseSucceed(() => undefined))

/** Summarizes events of one run. */
export const fromEvents = (events: ReadonlyArray<Event.Event>) => {
  let steps: number | undefined
  let finalEvalLoss: number | undefined
  let finished = false
  let failed = false
  const trainSteps: Array<{ step: number; loss: number }> = []
  for (const e of events) {
    if (e._tag === "RunStarted") steps = e.steps
    else if (e._tag === "TrainStep") trainSteps.push({ step: e.step, loss: e.loss })
    else if (e._tag === "Eval") finalEvalLoss = e.loss
    else if (e._tag === "RunFinished") {
      finished = true
      if (e.finalEvalLoss !== undefined) finalEvalLoss = e.finalEvalLoss
    } else if (e._tag === "RunFailed") failed = true
  }
  const last = steps ?? trainSteps.at(-1)?.step ?? 0
  const tail = trainSteps.filter((t) => t.step > last - Math.max(1, Math.ceil(last * 0.1)))
  const window = tail.length > 0 ? tail : trainSteps.slice(-1)
  const tailLoss = window.length > 0 ? window.reduce((a, t) => a + t.loss, 0) / window.length : undefined
  return {
    steps,
    finalEvalLoss,
    tailLoss,
    status: finished ? "finished" as const : failed ? "failed" as const : events.length > 0 ? "running" as const : "unknown" as const
  }
}

/** Reads a run folder. */
export const read = (dir: string): Effect.Effect<RunSummary, UserError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const abs = path.resolve(dir)
    const file = path.join(abs, "events.jsonl")
    if (!(yield* fs.exists(file).pipe(Effect.orElseSucceed(() => false)))) {
      return yield* new UserError({ message: `${dir}: not a run folder (no events.jsonl)` })
    }
    const text = yield* fs.readFileString(file).pipe(Effect.mapError((e) => new UserError({ message: `${dir}: ${e.message}` })))
    const { Event } = yield* Lazy.core
    const s = fromEvents(Event.decodeLines(text))
    const pipeline = yield* readJson(path.join(abs, "pipeline.json"))
    const manifest = yield* readJson(path.join(abs, "manifest.json"))
    const status = manifest?.["status"]
    const { seed: _seed, ...config } = pipeline ?? {}
    const backend = manifest?.["backend"] as { name?: unknown; threads?: unknown } | undefined
    return {
      dir: abs,
      name: typeof pipeline?.["name"] === "string" ? pipeline["name"] : path.basename(abs),
      seed: typeof pipeline?.["seed"] === "number" ? pipeline["seed"] : undefined,
      status: status === "finished" || status === "failed" || status === "running" ? status : s.status,
      steps: s.steps,
      finalEvalLoss: s.finalEvalLoss,
      tailLoss: s.tailLoss,
      config: pipeline === undefined ? undefined : config,
      ranOn: {
        backend: typeof backend?.name === "string" ? `${backend.name} (${String(backend.threads)} thread(s))` : undefined,
        git: typeof manifest?.["git"] === "string" ? manifest["git"] + (manifest["gitDirty"] === true ? " (dirty)" : "") : undefined
      }
    }
  })

/** Mean and sample standard deviation (0 for a single value). */
export const meanStd = (xs: ReadonlyArray<number>): { readonly mean: number; readonly std: number; readonly n: number } => {
  const n = xs.length
  if (n === 0) return { mean: Number.NaN, std: Number.NaN, n }
  const mean = xs.reduce((a, b) => a + b, 0) / n
  const std = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0
  return { mean, std, n }
}

/** One row of a comparison: runs sharing a configuration (every field of the pipeline but the seed). */
export interface Group {
  readonly name: string
  /** Hash of the configuration (`name:<name>` for runs without pipeline.json). */
  readonly config: string
  /** The fields (`path=value`) in which this group's configuration differs from the other groups'. */
  readonly differs: ReadonlyArray<string>
  readonly runs: ReadonlyArray<RunSummary>
  readonly evalLoss: ReturnType<typeof meanStd>
  readonly trainLoss: ReturnType<typeof meanStd>
}

const defined = (xs: ReadonlyArray<number | undefined>): Array<number> => xs.filter((x): x is number => x !== undefined && Number.isFinite(x))

/** The leaves of a JSON value as `path -> canonical JSON` (arrays by index). */
export const leaves = (value: unknown, prefix = "", out = new Map<string, string>()): Map<string, string> => {
  if (value !== null && typeof value === "object" && (Array.isArray(value) ? value.length > 0 : Object.keys(value).length > 0)) {
    for (const [k, v] of Object.entries(value)) leaves(v, prefix === "" ? k : `${prefix}.${k}`, out)
  } else out.set(prefix, stableStringify(value))
  return out
}

/** The key grouping a run: its configuration's hash, or its name when it has no pipeline.json. */
const configKey = (r: RunSummary): string => (r.config === undefined ? `name:${r.name}` : hashOf(r.config))

const shorten = (s: string, max = 40): string => (s.length <= max ? s : `${s.slice(0, max - 1)}…`)

/** Groups runs by configuration (first-seen order); each group says where it differs from the others. */
export const group = (runs: ReadonlyArray<RunSummary>): Array<Group> => {
  const by = new Map<string, Array<RunSummary>>()
  for (const r of runs) by.set(configKey(r), [...(by.get(configKey(r)) ?? []), r])
  const configs = [...by.values()].map((rs) => (rs[0]!.config === undefined ? undefined : leaves(rs[0]!.config)))
  const paths = new Set(configs.flatMap((c) => (c === undefined ? [] : [...c.keys()])))
  const differing = [...paths].filter((p) => new Set(configs.map((c) => c?.get(p) ?? "(absent)")).size > 1)
  return [...by].map(([config, rs], i) => ({
    name: rs[0]!.name,
    config,
    differs: configs[i] === undefined
      ? []
      : differing.filter((p) => p !== "name").map((p) => `${p}=${shorten(configs[i]!.get(p) ?? "(absent)")}`),
    runs: rs,
    evalLoss: meanStd(defined(rs.map((r) => r.finalEvalLoss))),
    trainLoss: meanStd(defined(rs.map((r) => r.tailLoss)))
  }))
}

/**
 * Warnings about groups that pool runs which may not be comparable: runs without pipeline.json
 * (grouped by name only, so their configurations may differ), and runs of one configuration on
 * different backends, thread counts or code versions.
 */
export const warnings = (groups: ReadonlyArray<Group>): Array<string> =>
  groups.flatMap((g) => {
    const out: Array<string> = []
    if (g.config.startsWith("name:") && g.runs.length > 1) {
      out.push(`${g.name}: ${g.runs.length} runs without pipeline.json are grouped by name; their configurations may differ`)
    }
    for (const [what, values] of [["backend", g.runs.map((r) => r.ranOn.backend)], ["git commit", g.runs.map((r) => r.ranOn.git)]] as const) {
      const distinct = [...new Set(values.filter((v): v is string => v !== undefined))]
      if (distinct.length > 1) out.push(`${label(g, groups)}: runs mix configurations: ${what} ${distinct.join(" vs ")}`)
    }
    return out
  })

/** A group's row label: its name, plus the fields that set it apart when another group has the same name. */
export const label = (g: Group, groups: ReadonlyArray<Group>): string =>
  g.differs.length === 0 || groups.filter((o) => o.name === g.name).length < 2 ? g.name : `${g.name} [${g.differs.join(", ")}]`

/** The paths whose values differ between groups (`name` left out), or `undefined` when none do. */
export const differingFields = (groups: ReadonlyArray<Group>): string | undefined => {
  const paths = [...new Set(groups.flatMap((g) => g.differs.map((d) => d.slice(0, d.indexOf("=")))))]
  return paths.length === 0 ? undefined : `fields that differ between the rows: ${paths.join(", ")}`
}

const fmt = (m: ReturnType<typeof meanStd>): string =>
  m.n === 0 ? "-" : m.n === 1 ? m.mean.toFixed(4) : `${m.mean.toFixed(4)} ± ${m.std.toFixed(4)}`

/** Renders groups as an aligned text table. */
export const table = (groups: ReadonlyArray<Group>): string => {
  const rows = [
    ["run", "seeds", "final eval loss", "train loss (last 10%)"],
    ...groups.map((g) => [label(g, groups), String(g.runs.length), fmt(g.evalLoss), fmt(g.trainLoss)])
  ]
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)))
  const line = (r: ReadonlyArray<string>) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ")
  return [line(rows[0]!), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(line)].join("\n")
}
