/**
 * Live state of a study's cells in one table, `rekindle_cells`: queued, running (on which worker,
 * since when, which attempt), finished or failed (with the error). Workers write it; the submitter
 * and `rekindle study status` read it. It is bookkeeping for people; the queue and the workflow
 * (effect/workflow tables) are what make the study durable.
 */
import { Array as Arr, Effect, Schedule } from "effect"
import { SqlClient } from "effect/sql"
import type { CellRef } from "./Cell.ts"

/** A cell's row. */
export interface CellState {
  readonly index: number
  readonly runId: string
  readonly status: "queued" | "running" | "finished" | "failed"
  readonly worker: string | null
  readonly attempts: number
  readonly startedAt: Date | null
  readonly finishedAt: Date | null
  readonly error: string | null
}

/** Retries a database call through a server restart (exponential backoff, about two minutes in all). */
export const withReconnect = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.retry(self, Schedule.min([Schedule.exponential("200 millis", 1.5), Schedule.spaced("5 seconds")]).pipe(Schedule.upTo({ duration: "2 minutes" })))

/** Creates the table when missing (safe to race: concurrent creators are retried). */
export const ensure = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE IF NOT EXISTS rekindle_cells (
    study_id text NOT NULL,
    idx integer NOT NULL,
    run_id text NOT NULL,
    status text NOT NULL,
    worker text,
    attempts integer NOT NULL DEFAULT 0,
    started_at timestamptz,
    finished_at timestamptz,
    error text,
    PRIMARY KEY (study_id, idx)
  )`
}).pipe(Effect.retry(Schedule.recurs(5)))

/** Records the cells of a submitted study as queued (cells already known keep their state). */
export const enqueue = (cells: ReadonlyArray<CellRef>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = cells.map((c) => ({ study_id: c.studyId, idx: c.index, run_id: c.runId, status: "queued" }))
    if (!Arr.isArrayNonEmpty(rows)) return
    yield* sql`INSERT INTO rekindle_cells ${sql.insert(rows)}
      ON CONFLICT (study_id, idx) DO NOTHING`
  })

/** Marks a cell running on `worker` (one more attempt). */
export const started = (c: CellRef, worker: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql`INSERT INTO rekindle_cells (study_id, idx, run_id, status, worker, attempts, started_at)
      VALUES (${c.studyId}, ${c.index}, ${c.runId}, 'running', ${worker}, 1, now())
      ON CONFLICT (study_id, idx) DO UPDATE SET status = 'running', worker = ${worker},
        attempts = rekindle_cells.attempts + 1, started_at = now(), finished_at = NULL, error = NULL`
  })

/** Marks a cell queued again (its worker stopped mid-cell and handed it back). */
export const requeued = (c: CellRef, worker: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql`UPDATE rekindle_cells SET status = 'queued', worker = NULL
      WHERE study_id = ${c.studyId} AND idx = ${c.index} AND status = 'running' AND worker = ${worker}`
  })

/** Marks a cell finished or failed. */
export const ended = (c: CellRef, worker: string, status: "finished" | "failed", error: string | undefined) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql`UPDATE rekindle_cells SET status = ${status}, worker = ${worker}, finished_at = now(), error = ${error ?? null}
      WHERE study_id = ${c.studyId} AND idx = ${c.index}`
  })

/** Every cell of a study, by index. */
export const read = (studyId: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{
      idx: number
      run_id: string
      status: CellState["status"]
      worker: string | null
      attempts: number
      started_at: Date | null
      finished_at: Date | null
      error: string | null
    }>`SELECT idx, run_id, status, worker, attempts, started_at, finished_at, error FROM rekindle_cells
      WHERE study_id = ${studyId} ORDER BY idx`
    return rows.map((r): CellState => ({
      index: r.idx,
      runId: r.run_id,
      status: r.status,
      worker: r.worker,
      attempts: r.attempts,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
      error: r.error
    }))
  })

/** Counts and an estimate of the time left. */
export interface Summary {
  readonly total: number
  readonly done: number
  readonly running: ReadonlyArray<CellState>
  readonly failed: number
  readonly queued: number
  /** Seconds left: mean finished-cell duration × cells left ÷ cells running at once; undefined before the first finishes. */
  readonly etaSeconds: number | undefined
}

/** Summarizes cell states. */
export const summarize = (cells: ReadonlyArray<CellState>): Summary => {
  const done = cells.filter((c) => c.status === "finished")
  const running = cells.filter((c) => c.status === "running")
  const failed = cells.filter((c) => c.status === "failed").length
  const durations = done.flatMap((c) =>
    c.startedAt !== null && c.finishedAt !== null ? [(c.finishedAt.getTime() - c.startedAt.getTime()) / 1000] : [])
  const left = cells.length - done.length - failed
  const parallel = Math.max(1, running.length)
  const mean = durations.length > 0 ? durations.reduce((a, b) => a + b, 0) / durations.length : undefined
  return {
    total: cells.length,
    done: done.length,
    running,
    failed,
    queued: cells.filter((c) => c.status === "queued").length,
    etaSeconds: mean === undefined ? undefined : Math.ceil(left / parallel) * mean
  }
}

/** One line: `3/8 done, 2 running (cell 3 on w1, cell 4 on w2), 0 failed, ETA 40 s`. */
export const line = (s: Summary): string =>
  `${s.done}/${s.total} done, ${s.running.length} running` +
  (s.running.length > 0 ? ` (${s.running.map((c) => `cell ${c.index} on ${c.worker}${c.attempts > 1 ? ` attempt ${c.attempts}` : ""}`).join(", ")})` : "") +
  `, ${s.failed} failed` +
  (s.etaSeconds !== undefined && s.done + s.failed < s.total ? `, ETA ${formatSeconds(s.etaSeconds)}` : "")

const formatSeconds = (s: number): string =>
  s < 90 ? `${Math.round(s)} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`
