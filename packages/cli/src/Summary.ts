/**
 * Summaries of finished runs, read back from their folders (`events.jsonl`, `pipeline.json`,
 * `manifest.json`): final eval loss and mean training loss over the last 10% of steps. Studies
 * and `rekindle compare` group them by run name and report mean ± std over seeds.
 */
import { Event, UserError } from "@rekindle/core"
import { Effect, FileSystem, Path } from "effect"

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
    const s = fromEvents(Event.decodeLines(text))
    const pipeline = yield* readJson(path.join(abs, "pipeline.json"))
    const manifest = yield* readJson(path.join(abs, "manifest.json"))
    const status = manifest?.["status"]
    return {
      dir: abs,
      name: typeof pipeline?.["name"] === "string" ? pipeline["name"] : path.basename(abs),
      seed: typeof pipeline?.["seed"] === "number" ? pipeline["seed"] : undefined,
      status: status === "finished" || status === "failed" || status === "running" ? status : s.status,
      steps: s.steps,
      finalEvalLoss: s.finalEvalLoss,
      tailLoss: s.tailLoss
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

/** One row of a comparison: runs sharing a name. */
export interface Group {
  readonly name: string
  readonly runs: ReadonlyArray<RunSummary>
  readonly evalLoss: ReturnType<typeof meanStd>
  readonly trainLoss: ReturnType<typeof meanStd>
}

const defined = (xs: ReadonlyArray<number | undefined>): Array<number> => xs.filter((x): x is number => x !== undefined && Number.isFinite(x))

/** Groups runs by name (first-seen order). */
export const group = (runs: ReadonlyArray<RunSummary>): Array<Group> => {
  const by = new Map<string, Array<RunSummary>>()
  for (const r of runs) by.set(r.name, [...(by.get(r.name) ?? []), r])
  return [...by].map(([name, rs]) => ({
    name,
    runs: rs,
    evalLoss: meanStd(defined(rs.map((r) => r.finalEvalLoss))),
    trainLoss: meanStd(defined(rs.map((r) => r.tailLoss)))
  }))
}

const fmt = (m: ReturnType<typeof meanStd>): string =>
  m.n === 0 ? "-" : m.n === 1 ? m.mean.toFixed(4) : `${m.mean.toFixed(4)} ± ${m.std.toFixed(4)}`

/** Renders groups as an aligned text table. */
export const table = (groups: ReadonlyArray<Group>): string => {
  const rows = [
    ["run", "seeds", "final eval loss", "train loss (last 10%)"],
    ...groups.map((g) => [g.name, String(g.runs.length), fmt(g.evalLoss), fmt(g.trainLoss)])
  ]
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)))
  const line = (r: ReadonlyArray<string>) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ")
  return [line(rows[0]!), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(line)].join("\n")
}
