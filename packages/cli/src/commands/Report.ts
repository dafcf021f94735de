/**
 * `rekindle report <run-or-study-dir...>`: (re)writes the self-contained `report.html` of a run
 * folder, of a study folder (and of each of its runs), or of a `rekindle magnitudes` folder.
 */
import { Console, Effect } from "effect"
import { Argument, Command } from "effect/cli"
import * as Lazy from "../Lazy.ts"

/** The `report` command. */
export const report = Command.make(
  "report",
  {
    dirs: Argument.String("dir").pipe(
      Argument.withDescription("A run folder, a study folder (runs/<study>/) or a magnitudes folder"),
      Argument.atLeast(1)
    )
  },
  Effect.fn("report")(function*({ dirs }) {
    const { Write } = yield* Lazy.report
    for (const dir of dirs) {
      const files = yield* Write.write(dir)
      yield* Console.log(`report: ${files[0]}` + (files.length > 1 ? ` (and ${files.length - 1} run report${files.length === 2 ? "" : "s"})` : ""))
    }
  })
).pipe(Command.withDescription("Write the self-contained report.html of a run, a study or a magnitudes folder"))
