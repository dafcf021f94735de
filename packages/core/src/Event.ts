/**
 * Everything a run reports, as one Schema tagged union (`_tag`). Events are written one per line
 * to `events.jsonl` and fanned out to every sink; the report, TensorBoard and `compare` read the
 * same data. Wall-clock fields (`time`, `ms`, `tokensPerSec`) are the only fields allowed to differ
 * between two runs of the same pipeline, seed, backend and thread count (see `Event.stripTimings`).
 */
import { Schema } from "effect"

const Num = Schema.Finite
/** A number that may also be NaN or infinite (a loss that blew up is still reported). */
const AnyNum = Schema.Number
const Int = Schema.Int
const Nums = Schema.Array(Schema.Number)

/** Which native BLAS ran the wasm backend's matrix products (see core's `BlasInfo`). */
export const BlasRecord = Schema.Struct({
  requested: Schema.String,
  library: Schema.String,
  path: Schema.optionalKey(Schema.String),
  version: Schema.optionalKey(Schema.String),
  coreType: Schema.optionalKey(Schema.String),
  threads: Schema.optionalKey(Int),
  reason: Schema.String
})

/** The run began: where it runs and what it is. */
export const RunStarted = Schema.TaggedStruct("RunStarted", {
  time: Schema.String,
  run: Schema.String,
  pipelineHash: Schema.String,
  seed: Int,
  backend: Schema.Struct({
    name: Schema.String,
    threads: Int,
    simd: Schema.Boolean,
    overrides: Schema.Boolean,
    blas: Schema.optionalKey(BlasRecord)
  }),
  parameters: Int,
  steps: Int,
  resumedFrom: Schema.optionalKey(Int)
})

/** One optimizer step (logged at the trainer's cadence). `step` is the step just completed (1-based). */
export const TrainStep = Schema.TaggedStruct("TrainStep", {
  step: Int,
  loss: AnyNum,
  lr: Num,
  tokens: Int,
  ms: Num,
  tokensPerSec: Num
})

/** An evaluation on the held-out stream. */
export const Eval = Schema.TaggedStruct("Eval", {
  step: Int,
  loss: AnyNum,
  accuracy: Num,
  batches: Int,
  tokens: Int
})

/** How a shadow criterion's choice compared with the acting one. */
export const ShadowOverlap = Schema.Struct({
  criterion: Schema.String,
  /** 8 hex digits of the shadow's options (canonical JSON): two shadows with one id and different options differ here. */
  optionsHash: Schema.optionalKey(Schema.String),
  chosen: Int,
  jaccard: Num
})

/** One recycling event of one stage on one FF layer. */
export const Recycle = Schema.TaggedStruct("Recycle", {
  step: Int,
  stage: Int,
  layer: Int,
  criterion: Schema.String,
  reinit: Schema.String,
  k: Int,
  indices: Schema.Array(Int),
  scores: Nums,
  magnitudeBefore: Num,
  magnitudeAfter: Num,
  key: Schema.String,
  optimizerState: Schema.Literals(["keep", "zero-moments", "zero-moments-and-step"]),
  shadow: Schema.Array(ShadowOverlap)
})

/** A histogram (bin edges has counts.length + 1 entries). */
export const Histogram = Schema.TaggedStruct("Histogram", {
  step: Int,
  probe: Schema.String,
  name: Schema.String,
  layer: Schema.optionalKey(Int),
  edges: Nums,
  counts: Schema.Array(Int),
  mean: Num,
  std: Num
})

/** A named scalar from a probe. */
export const Scalar = Schema.TaggedStruct("Scalar", {
  step: Int,
  probe: Schema.String,
  name: Schema.String,
  layer: Schema.optionalKey(Int),
  value: AnyNum
})

/** Paired per-neuron values (e.g. magnitude vs firing rate) with their Pearson r. */
export const Scatter = Schema.TaggedStruct("Scatter", {
  step: Int,
  probe: Schema.String,
  name: Schema.String,
  layer: Schema.optionalKey(Int),
  x: Nums,
  y: Nums,
  pearson: AnyNum
})

/** Per-neuron lineage of one layer: how often and when each neuron was recycled. */
export const Lineage = Schema.TaggedStruct("Lineage", {
  step: Int,
  layer: Int,
  resets: Schema.Array(Int),
  lastReset: Schema.Array(Int),
  scoreAtReset: Nums,
  magnitude: Nums
})

/**
 * Gradual pruning grew one FF layer's cumulative mask (before step `step`'s update): `indices`
 * were pruned now (with the criterion's scores), `pruned` neurons are masked in total, the
 * schedule's target fraction is `fraction`. Pruned neurons never come back.
 */
export const Prune = Schema.TaggedStruct("Prune", {
  step: Int,
  layer: Int,
  criterion: Schema.String,
  fraction: Num,
  pruned: Int,
  indices: Schema.Array(Int),
  scores: Nums
})

/**
 * Retraining a subset began on one FF layer (before step `step`'s update): every parameter but
 * these neurons' slices is frozen until step `until`, under a fresh optimizer; `then` says
 * whether training continues afterwards (`continue`) or the run ends (`stop`).
 */
export const Retrain = Schema.TaggedStruct("Retrain", {
  step: Int,
  until: Int,
  layer: Int,
  subset: Schema.String,
  indices: Schema.Array(Int),
  magnitude: Num,
  then: Schema.Literals(["continue", "stop"])
})

/** A checkpoint was written. */
export const Checkpoint = Schema.TaggedStruct("Checkpoint", { step: Int, path: Schema.String })

/** The run ended normally. */
export const RunFinished = Schema.TaggedStruct("RunFinished", {
  time: Schema.String,
  step: Int,
  finalLoss: AnyNum,
  finalEvalLoss: Schema.optionalKey(AnyNum)
})

/** The run stopped on an error (non-finite values, broken invariant, interruption). */
export const RunFailed = Schema.TaggedStruct("RunFailed", {
  time: Schema.String,
  step: Int,
  reason: Schema.String,
  message: Schema.String
})

/** Any event. */
export const Event = Schema.Union([
  RunStarted,
  TrainStep,
  Eval,
  Recycle,
  Histogram,
  Scalar,
  Scatter,
  Lineage,
  Prune,
  Retrain,
  Checkpoint,
  RunFinished,
  RunFailed
]).pipe(Schema.toTaggedUnion("_tag"))

/** Any event (type). */
export type Event = typeof Event.Type
/** The event of one tag. */
export type EventOf<T extends Event["_tag"]> = Extract<Event, { readonly _tag: T }>

/** Fields that hold wall-clock time and may differ between identical runs. */
export const timingFields: ReadonlyArray<string> = ["time", "ms", "tokensPerSec"]

/** The event without its wall-clock fields (for determinism comparisons). */
export const stripTimings = (e: Event): Record<string, unknown> => {
  const out: Record<string, unknown> = { ...e }
  for (const f of timingFields) delete out[f]
  return out
}

/**
 * The events' JSON codec: the schema's canonical JSON form, in which the non-finite numbers that
 * `Number` fields may carry (a loss that blew up, a statistic of nothing) are the strings `"NaN"`,
 * `"Infinity"` and `"-Infinity"` (plain `JSON.stringify` would write `null`, which no longer
 * decodes as a number). Finite numbers stay JSON numbers.
 */
const EventJson = Schema.toCodecJson(Event)
const encodeJson = Schema.encodeSync(EventJson)
const decodeJson = Schema.decodeUnknownSync(EventJson)

/** One events.jsonl line (no trailing newline); non-finite numbers as `"NaN"`, `"Infinity"`, `"-Infinity"`. */
export const encodeLine = (e: Event): string => JSON.stringify(encodeJson(e))

/** Decodes one events.jsonl line; throws a SchemaError on a malformed or unknown event. */
export const decodeLine = (line: string): Event => decodeJson(JSON.parse(line))

/**
 * Decodes events.jsonl text leniently, for readers (summaries, reports): blank lines, a line torn
 * by a crash and events this version does not know are skipped.
 */
export const decodeLines = (text: string): Array<Event> => {
  const out: Array<Event> = []
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue
    try {
      out.push(decodeLine(line))
    } catch {
      // a torn last line, or an event of a newer version
    }
  }
  return out
}
