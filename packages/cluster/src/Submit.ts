/**
 * Submitting a study: records its cells as queued, starts (or joins) the study workflow keyed by
 * the study id, and waits for it, reporting progress as it changes. The submitter holds nothing
 * the study needs: killing it leaves the study running, and submitting again joins it (a finished
 * study returns its stored results and runs nothing).
 */
import { UserError } from "@rekindle/core"
import { Duration, Effect, Exit, Option } from "effect"
import type { CellRef, CellResult } from "./Cell.ts"
import * as Database from "./Database.ts"
import * as Engine from "./Engine.ts"
import * as Progress from "./Progress.ts"
import * as StudyWorkflow from "./StudyWorkflow.ts"

/** What to submit. */
export interface SubmitOptions {
  readonly db: string
  readonly studyId: string
  readonly cells: ReadonlyArray<CellRef>
  /** Called with a progress line whenever it changes. */
  readonly onProgress: (line: string, summary: Progress.Summary) => Effect.Effect<void>
  /** Called once the workflow is started (or joined). */
  readonly onSubmitted?: Effect.Effect<void>
  /** How often to look (default 250 ms). */
  readonly every?: Duration.Input
}

/**
 * Submits (or joins) a study and returns every cell's result once all are done. The caller has
 * checked the database (`Database.check`) first; losing it later is ridden out with backoff.
 */
export const submit = (o: SubmitOptions): Effect.Effect<ReadonlyArray<CellResult>, UserError> =>
  Effect.gen(function*() {
    return yield* Effect.gen(function*() {
      yield* Progress.withReconnect(Progress.ensure)
      yield* Progress.withReconnect(Progress.enqueue(o.cells))
      const executionId = yield* Progress.withReconnect(
        StudyWorkflow.Study.execute({ studyId: o.studyId, cells: o.cells }, { discard: true })
      )
      if (o.onSubmitted !== undefined) yield* o.onSubmitted
      let last = ""
      while (true) {
        const cells = yield* Progress.withReconnect(Progress.read(o.studyId))
        const summary = Progress.summarize(cells)
        const text = Progress.line(summary)
        if (text !== last) {
          last = text
          yield* o.onProgress(text, summary)
        }
        const result = yield* StudyWorkflow.Study.poll(executionId)
        if (Option.isSome(result) && result.value._tag === "Complete") {
          const exit = result.value.exit
          if (Exit.isSuccess(exit)) return exit.value
          return yield* Effect.die(exit.cause)
        }
        yield* Effect.sleep(o.every ?? Duration.millis(250))
      }
    }).pipe(
      Effect.provide(Engine.client(o.db)),
      Effect.catchTag("ConfigError", Effect.die),
      Effect.catchTag("SqlError", (e) => Effect.fail(new UserError({ message: `--cluster: the database at ${Database.redact(o.db)} failed: ${e.message}` })))
    )
  })

/** A study's progress, without submitting it (`undefined`: never submitted to this database). */
export const status = (db: string, studyId: string) =>
  Effect.gen(function*() {
    yield* Database.check("--cluster", db)
    return yield* Effect.gen(function*() {
      yield* Progress.ensure
      const cells = yield* Progress.read(studyId)
      return cells.length === 0 ? undefined : { cells, summary: Progress.summarize(cells) }
    }).pipe(
      Effect.provide(Database.layer(db)),
      Effect.catchTag("SqlError", (e) => Effect.fail(new UserError({ message: `--cluster: the database at ${Database.redact(db)} failed: ${e.message}` })))
    )
  })
