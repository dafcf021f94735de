/**
 * A quick calibration of a study's speed on this machine: one cell's pipeline without its
 * recycling, hooks and probes, run for a few steps into a scratch folder by the real trainer (on
 * the cell's backend and thread count). Its steps give the time per step; the rest of its wall
 * time (engine start-up, data, the final evaluation) the time a cell costs besides its steps.
 */
import { Event, UserError } from "@rekindle/core"
import { Compile, type Registry } from "@rekindle/pipeline"
import { Console, Effect, FileSystem, Path } from "effect"
import { tmpdir } from "node:os"
import type { Cell } from "./Cells.ts"
import type { RunFn } from "./commands/Run.ts"
import type { Speed } from "./Estimate.ts"

/** The median of a non-empty list. */
const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/**
 * Runs 2 steps of `cell`'s model and data (the cold run: engine start-up, data), then `steps` steps
 * (the warm run), and measures the speed.
 */
export const calibrate = (o: {
  readonly trainer: RunFn
  readonly registry: Registry.Registry
  readonly cell: Cell
  readonly steps: number
  readonly cacheDir: string
  readonly backends: Parameters<RunFn>[1]["backends"]
}): Effect.Effect<Speed, UserError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const dir = yield* fs.makeTempDirectoryScoped({ directory: tmpdir(), prefix: "rekindle-calibration-" }).pipe(
      Effect.mapError((e) => new UserError({ message: `calibration: cannot make a scratch folder: ${e.message}` }))
    )
    const resolved = o.cell.plan.resolved as Record<string, unknown>
    /** One calibration run of `steps` steps: its wall time and its steps' times. */
    const run = (steps: number) =>
      Effect.gen(function*() {
        const pipeline = {
          ...resolved,
          name: "calibration",
          recycling: [],
          hooks: [],
          probes: [],
          train: { ...(resolved["train"] as object), steps, evalEvery: 0, checkpointEvery: 0 }
        }
        const plan = yield* Compile.compile(o.registry, pipeline)
        const t0 = Date.now()
        const result = yield* o.trainer(plan, { outDir: dir, cacheDir: o.cacheDir, backends: o.backends, existing: "replace", keepCheckpoints: 1 }).pipe(
          Effect.mapError((e) => new UserError({ message: `calibration run failed: ${e instanceof Error ? e.message : String(e)}` }))
        )
        const wall = Date.now() - t0
        const text = yield* fs.readFileString(path.join(result.dir, "events.jsonl")).pipe(
          Effect.mapError((e) => new UserError({ message: `calibration: cannot read its events: ${e.message}` }))
        )
        const ms = Event.decodeLines(text).flatMap((e) => (e._tag === "TrainStep" ? [e.ms] : []))
        if (ms.length === 0) return yield* new UserError({ message: "calibration: the run reported no training steps" })
        return { wall, ms }
      })
    yield* Console.error(`calibrating: 2 + ${o.steps} steps of ${o.cell.name}`)
    const cold = yield* run(2)
    const warm = yield* run(o.steps)
    // the first steps warm the kernels up: the per-step time is the median after them
    const msPerStep = median(warm.ms.length > 4 ? warm.ms.slice(2) : warm.ms)
    const msPerCell = Math.max(0, warm.wall - msPerStep * warm.ms.length)
    // a child process starts the CLI (as this one did) and the engine (as the cold run did)
    const started = Math.max(0, Date.now() - performance.timeOrigin - cold.wall - warm.wall)
    return { msPerStep, msPerCell, msPerProcess: started + Math.max(0, cold.wall - msPerCell - msPerStep * cold.ms.length) }
  }).pipe(Effect.scoped)
