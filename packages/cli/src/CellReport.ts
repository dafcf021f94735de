/**
 * What `rekindle study run-cell --result FILE` writes when it ends: the cell's outcome as JSON
 * (finished, skipped as already finished, or failed with the error as the user would see it,
 * field paths included), its final eval loss, and when each phase began (epoch milliseconds).
 * A worker reads it instead of guessing the outcome from the child's stderr; any scheduler may
 * read it too.
 */
import { Effect, FileSystem, Option, Schema } from "effect"

/** When a run-cell passed each phase (epoch ms): start, study loaded and compiled, training started and ended. */
const Timings = Schema.Struct({
  start: Schema.Finite,
  loaded: Schema.optionalKey(Schema.Finite),
  trainStart: Schema.optionalKey(Schema.Finite),
  end: Schema.Finite
})
/** A run-cell's result file. */
export const CellReport = Schema.Struct({
  index: Schema.Int,
  runId: Schema.optionalKey(Schema.String),
  status: Schema.Literals(["finished", "skipped", "failed"]),
  /** The run folder. */
  dir: Schema.optionalKey(Schema.String),
  finalEvalLoss: Schema.optionalKey(Schema.Finite),
  /** For a failed cell: `user` (bad input, exit 2), `run` (numerical failure, exit 1) or `internal` (a bug, exit 1). */
  kind: Schema.optionalKey(Schema.Literals(["user", "run", "internal"])),
  /** For a failed cell: the error, formatted as the CLI prints it. */
  error: Schema.optionalKey(Schema.String),
  timings: Timings
})
/** A run-cell's result. */
export type CellReport = typeof CellReport.Type

const json = Schema.fromJsonString(CellReport)

/** Writes a result file (whole or not at all). */
export const write = (file: string, report: CellReport) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const text = yield* Schema.encodeEffect(json)(report).pipe(Effect.orDie)
    yield* fs.writeFileString(`${file}.tmp`, text + "\n")
    yield* fs.rename(`${file}.tmp`, file)
  })

/** A result file's text, decoded (`undefined`: not a whole result, e.g. cut short). */
export const parse = (text: string): CellReport | undefined =>
  Option.getOrUndefined(Schema.decodeUnknownOption(json)(text.trim()))
