/**
 * A study as a durable workflow keyed by its study id, fanning out one durable-queue item per
 * cell (keyed by the cell's run id). Workers drain the queue with N slots; the workflow's result
 * (every cell's `CellResult`) is stored, so submitting the same study again joins it or returns
 * the stored results without running anything.
 */
import { Effect, Schema } from "effect"
import { DurableQueue, Workflow } from "effect/workflow"
import { CellRef, CellResult } from "./Cell.ts"

/** One queue item per cell; a failed cell completes its item (reported once, never retried). */
export const CellQueue = DurableQueue.make({
  name: "rekindle/Cell",
  payload: CellRef,
  success: CellResult,
  idempotencyKey: (c) => `${c.studyId}/${c.runId}`
})

/** The study workflow. */
export const Study = Workflow.make("rekindle/Study", {
  payload: { studyId: Schema.String, cells: Schema.Array(CellRef) },
  success: Schema.Array(CellResult),
  idempotencyKey: (p) => p.studyId
})

/** The workflow's implementation (hosted by the workers). */
export const layer = Study.toLayer(({ cells }) =>
  Effect.forEach(cells, (c) => DurableQueue.process(CellQueue, c), { concurrency: "unbounded" })
)
