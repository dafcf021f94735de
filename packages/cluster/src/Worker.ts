/**
 * A worker: joins the cluster as a runner, hosts study workflows, and drains the cell queue with
 * `slots` cells at a time. Each cell is handed to `perform` (the CLI spawns `rekindle study
 * run-cell` as a child process) and its outcome recorded; a failed cell completes its queue item
 * (reported once). A worker that dies leaves its items to be redelivered after the lease expires.
 */
import { Effect, Layer } from "effect"
import { DurableQueue } from "effect/workflow"
import type { CellRef, CellResult } from "./Cell.ts"
import * as Database from "./Database.ts"
import * as Engine from "./Engine.ts"
import * as Progress from "./Progress.ts"
import * as StudyWorkflow from "./StudyWorkflow.ts"

/** How a worker runs. */
export interface WorkerOptions {
  readonly db: string
  /** Cells at a time. */
  readonly slots: number
  /** The worker's name in progress reports. */
  readonly name: string
  readonly host: string
  readonly port: number
  /** Runs one cell (never fails: a failure is a `failed` result). */
  readonly perform: (cell: CellRef, worker: string) => Effect.Effect<CellResult>
  /** Called once the worker has joined (e.g. to print "ready"). */
  readonly onReady?: Effect.Effect<void>
  /** Called once a cell's outcome is recorded, with the time it was (epoch ms). */
  readonly onRecorded?: (cell: CellRef, result: CellResult, at: number) => Effect.Effect<void>
}

/** Serves cells until interrupted. Fails with a UserError when the database cannot be used. */
export const serve = (o: WorkerOptions) =>
  Effect.gen(function*() {
    yield* Database.check("--db", o.db)
    const handle = (cell: CellRef) =>
      Effect.gen(function*() {
        yield* Progress.withReconnect(Progress.started(cell, o.name)).pipe(Effect.ignore)
        const result = yield* o.perform(cell, o.name)
        yield* Progress.withReconnect(Progress.ended(cell, o.name, result.status, result.error)).pipe(Effect.ignore)
        if (o.onRecorded !== undefined) yield* o.onRecorded(cell, result, Date.now())
        return result
      }).pipe(
        // stopped mid-cell (SIGTERM, Ctrl-C): the queue releases the item at once; say it is queued again
        Effect.onInterrupt(() => Progress.requeued(cell, o.name).pipe(Effect.timeout("5 seconds"), Effect.ignore))
      )
    const worker = Layer.mergeAll(StudyWorkflow.layer, DurableQueue.worker(StudyWorkflow.CellQueue, handle, { concurrency: o.slots }))
    const ready = Layer.effectDiscard(Effect.andThen(Progress.ensure, o.onReady ?? Effect.void))
    return yield* Layer.launch(Layer.mergeAll(worker, ready).pipe(Layer.provide(Engine.runner(o.db, { host: o.host, port: o.port }))))
  })
