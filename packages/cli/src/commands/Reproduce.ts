/**
 * `rekindle reproduce <run-dir>`: runs a finished (or failed) run again from its own
 * `pipeline.json`, on the backend and thread count recorded in its manifest, into a scratch
 * folder, and reports whether the two `events.jsonl` files match apart from wall-clock fields and
 * resume markers. Exit 0 when they match, 1 when they differ (the first difference is printed and
 * the reproduction kept for inspection), 2 when the run folder cannot be reproduced.
 */
import { UserError } from "@rekindle/core/Errors"
import { Console, Effect, FileSystem, Option, Path } from "effect"
import { Command, Flag } from "effect/cli"
import * as os from "node:os"
import { runDirArg, savedPlan, training } from "./Resume.ts"
import { cacheFlag } from "./Shared.ts"
import { ExitCode } from "./Run.ts"

const determinism = Effect.promise(() => import("@rekindle/run")).pipe(Effect.map((m) => m.Determinism))

/** The `reproduce` command. */
export const reproduce = Command.make(
  "reproduce",
  {
    runDir: runDirArg,
    out: Flag.String("out").pipe(
      Flag.withDescription("Root folder for the reproduction (default: a new temporary folder, removed when the events match)"),
      Flag.optional
    ),
    cache: cacheFlag
  },
  Effect.fn("reproduce")(function*({ runDir, out, cache }) {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const t = yield* training
    const D = yield* determinism
    const saved = yield* t.Resume.readRun(runDir)
    const status = saved.manifest.status
    if (status !== "finished" && status !== "failed") {
      return yield* new UserError({
        message: `${saved.dir}: the run is ${status}, not finished; ` +
          (status === "interrupted" || status === "running" ? `continue it with \`rekindle resume ${runDir}\` first` : "nothing to compare")
      })
    }
    const eventsName = t.Resume.eventFiles(saved.pipeline)[0]
    if (eventsName === undefined) {
      return yield* new UserError({ message: `${saved.dir}: the pipeline writes no events file (no log/jsonl sink), so there is nothing to compare` })
    }
    const original = yield* D.read(path.join(saved.dir, eventsName)).pipe(Effect.mapError((e) => new UserError({ message: e.message })))
    const { plan, backends, source } = yield* savedPlan(saved, t.RunFolder.hashOf)
    const root = Option.isSome(out)
      ? path.resolve(out.value)
      : yield* fs.makeTempDirectory({ directory: os.tmpdir(), prefix: "rekindle-reproduce-" }).pipe(
        Effect.mapError((e) => new UserError({ message: `cannot create a temporary folder: ${e.message}` }))
      )
    if (path.resolve(root) === path.dirname(saved.dir)) {
      return yield* new UserError({ message: `--out ${root}: the reproduction would replace the run itself; choose another folder` })
    }
    yield* Console.log(
      `reproducing ${path.basename(saved.dir)} (${saved.manifest.stepsDone} steps, backend ${plan.backend.name}` +
        `${plan.backend.threads !== undefined ? `, ${plan.backend.threads} threads` : ""}) into ${root}`
    )
    const result = yield* t.Runner.run(plan, {
      outDir: root,
      existing: "replace",
      cacheDir: cache,
      backends,
      ...(source !== undefined ? { source } : {})
    }).pipe(
      Effect.map((r) => r.dir),
      Effect.catchTag("RunError", (e) =>
        Console.error(`the reproduction failed at step ${e.step}: ${e.message}`).pipe(
          Effect.as(path.join(root, path.basename(saved.dir)))
        ))
    )
    const again = yield* D.read(path.join(result, eventsName)).pipe(Effect.mapError((e) => new UserError({ message: e.message })))
    for (const [label, f] of [["original", original], ["reproduction", again]] as const) {
      if (f.torn !== undefined) yield* Console.error(`warning: the ${label}'s ${eventsName} ends in a torn line (ignored)`)
      for (const b of f.bad) yield* Console.error(`warning: the ${label}'s ${eventsName} line ${b.line} is not an event: ${b.problem}`)
    }
    const comparison = D.compare(original.events, again.events)
    yield* Console.log(D.describe(comparison))
    if (!comparison.equal) {
      yield* Console.log(`reproduction kept in ${result}`)
      return yield* new ExitCode({ code: 1 })
    }
    if (Option.isNone(out)) yield* fs.remove(root, { recursive: true }).pipe(Effect.ignore)
    else yield* Console.log(`reproduction in ${result}`)
  })
).pipe(Command.withDescription("Run a finished run again from its pipeline.json and check that its events match"))
