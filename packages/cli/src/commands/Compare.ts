/**
 * `rekindle compare <run-dir...>`: the comparison table of a study, from run folders (a folder
 * holding run folders, like a study's, counts as all of them): per run name, final eval loss and
 * mean training loss over the last 10% of steps, mean ± std over seeds.
 */
import { UserError } from "@rekindle/core"
import { Console, Effect, FileSystem, Path } from "effect"
import { Argument, Command } from "effect/cli"
import * as Summary from "../Summary.ts"

/** Run folders under `dir`: itself if it has events.jsonl, else its subfolders that do. */
const runDirs = (dir: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    if (!(yield* fs.exists(dir).pipe(Effect.orElseSucceed(() => false)))) {
      return yield* new UserError({ message: `${dir}: no such folder` })
    }
    if (yield* fs.exists(path.join(dir, "events.jsonl")).pipe(Effect.orElseSucceed(() => false))) return [dir]
    const names = yield* fs.readDirectory(dir).pipe(Effect.orElseSucceed(() => [] as Array<string>))
    const inner: Array<string> = []
    for (const n of [...names].sort()) {
      if (yield* fs.exists(path.join(dir, n, "events.jsonl")).pipe(Effect.orElseSucceed(() => false))) inner.push(path.join(dir, n))
    }
    if (inner.length === 0) return yield* new UserError({ message: `${dir}: not a run folder (no events.jsonl here or in its subfolders)` })
    return inner
  })

/** The `compare` command. */
export const compare = Command.make(
  "compare",
  { runs: Argument.String("run-dir").pipe(Argument.withDescription("Run folders (or folders of run folders)"), Argument.atLeast(1)) },
  Effect.fn("compare")(function*({ runs }) {
    const dirs = (yield* Effect.forEach(runs, runDirs)).flat()
    const summaries = yield* Effect.forEach(dirs, Summary.read)
    yield* Console.log(Summary.table(Summary.group(summaries)))
  })
).pipe(Command.withDescription("Compare runs: final eval loss and late training loss, mean ± std over seeds"))
