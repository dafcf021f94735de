/**
 * What travels through the database: a cell as a reference (study file path and content hash,
 * `--set` overrides, cell index, expected run id and pipeline hash, backend and thread count),
 * never code; and what a worker reports back about it.
 */
import { Schema } from "effect"

/** A cell of a study, by reference: the worker rebuilds it from the study file and checks every hash. */
export const CellRef = Schema.Struct({
  /** The study execution this cell belongs to (`<study name>-<hash>`). */
  studyId: Schema.String,
  /** The study's name (its runs go to `<runs dir>/<study name>/`). */
  study: Schema.String,
  /** Absolute path of the study file, as the submitter saw it (the same path on every machine). */
  file: Schema.String,
  /** sha256 of the study file's bytes at submission. */
  fileHash: Schema.String,
  /** `--set` overrides, as given. */
  sets: Schema.Array(Schema.String),
  index: Schema.Int,
  /** `<name>-<pipeline hash>`: the run folder's name. */
  runId: Schema.String,
  pipelineHash: Schema.String,
  backend: Schema.String,
  threads: Schema.optionalKey(Schema.Int),
  /** The submitter's study folder (`<runs dir>/<study>`), to tell a worker whose runs dir is not the same one. */
  root: Schema.String
})
/** A cell reference. */
export type CellRef = typeof CellRef.Type

/** When a worker passed each phase of a cell (epoch ms, the worker's clock). */
export const CellTimings = Schema.Struct({
  /** The worker took the queue item. */
  taken: Schema.Finite,
  /** The child began the request. */
  childStart: Schema.optionalKey(Schema.Finite),
  /** The child had the study loaded and compiled (training about to start). */
  loaded: Schema.optionalKey(Schema.Finite),
  /** The child had finished (result file written). */
  childEnd: Schema.optionalKey(Schema.Finite),
  /** The worker had the child's result. */
  reported: Schema.Finite
})
/** A cell's phase times. */
export type CellTimings = typeof CellTimings.Type

/** What became of a cell. */
export const CellResult = Schema.Struct({
  index: Schema.Int,
  runId: Schema.String,
  status: Schema.Literals(["finished", "failed"]),
  /** The worker that ran (or refused) it. */
  worker: Schema.String,
  /** The run folder, as the worker saw it. */
  dir: Schema.String,
  /** The run's final eval loss, for a finished cell (read from its run folder). */
  finalEvalLoss: Schema.optionalKey(Schema.Number),
  /** Why it failed (user error or numerical failure), for a failed cell. */
  error: Schema.optionalKey(Schema.String),
  /** Wall time of the child process, in milliseconds. */
  ms: Schema.Finite,
  /** Where the time went. */
  timings: Schema.optionalKey(CellTimings)
})
/** A cell's result. */
export type CellResult = typeof CellResult.Type
