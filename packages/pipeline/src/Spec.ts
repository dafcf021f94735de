/**
 * The pipeline format as one Schema. `.ts`, `.json` and `.yaml` pipelines all decode through
 * `PipelineSpec`. Every section has defaults; unknown keys are errors. Plugin parts appear as
 * part refs (`{ use: "namespace/id", ...options }`) whose options are decoded later, by the
 * part's own schema, once the registry is known (see Resolve.ts).
 */
import { DataConfig } from "@rekindle/data"
import { ModelConfig } from "@rekindle/model"
import { Stage } from "@rekindle/recycling"
import { MidpointLossConfig, PruningSchedule, RetrainSettings, TrainConfig } from "@rekindle/training"
import { Effect, Schema } from "effect"


const PositiveInt = Schema.Int.pipe(Schema.check(Schema.isGreaterThan(0)))
const NonNegativeInt = Schema.Int.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(0)))

/** A reference to a plugin part: `use: "namespace/id"` plus the part's options inline. */
export const PartRef = Schema.StructWithRest(
  Schema.Struct({
    use: Schema.String.pipe(Schema.annotate({ description: "The part, as namespace/id (see `rekindle plugins`)" }))
  }),
  [Schema.Record(Schema.String, Schema.Unknown)]
)
/** A part ref (decoded). */
export type PartRef = typeof PartRef.Type

/** Fraction of neurons a stage recycles: in (0, 1]. */
export const Fraction = Schema.Finite.pipe(
  Schema.check(Schema.isBetween({ minimum: 0, maximum: 1, exclusiveMinimum: true }, { expected: "a fraction in (0, 1]" })),
  Schema.annotate({ description: "Fraction of each layer's FF neurons (per-layer scope) or of all FF neurons (global scope)" })
)

/** The criterion ref of a stage: a part ref with the stage's `fraction`. */
export const SelectRef = Schema.StructWithRest(
  Schema.Struct({ use: PartRef.schema.fields.use, fraction: Fraction }),
  [Schema.Record(Schema.String, Schema.Unknown)]
)

/** `backend: "auto"` or `{ name, threads }`. */
export const Backend = Schema.Union([
  Schema.String,
  Schema.Struct({
    name: Schema.String,
    threads: Schema.optionalKey(PositiveInt.pipe(Schema.annotate({ description: "Threads (wasm); absent = all cores" })))
  })
]).pipe(Schema.annotate({ expected: `a backend name ("auto", "wasm", "cpu", ...) or { name, threads }` }))

const tk = DataConfig.Tokenizer.cases
const mk = DataConfig.Masking.fields

/** Section `data`: defaults to Brown, WordPiece 4096 lowercase, MLM with 15% 80/10/10 masking, 5% eval. */
export const DataSection = Schema.Struct({
  corpus: DataConfig.Corpus.pipe(
    Schema.annotate({ expected: `{ kind: "brown" } | { kind: "text", path } | { kind: "jsonl", path, field? }` }),
    Schema.withDecodingDefaultKey(Effect.succeed({ kind: "brown" as const }))
  ),
  tokenizer: Schema.Union([
    Schema.Struct({
      ...tk.wordpiece.fields,
      vocabSize: tk.wordpiece.fields.vocabSize.pipe(Schema.withDecodingDefaultKey(Effect.succeed(4096))),
      lowercase: tk.wordpiece.fields.lowercase.pipe(Schema.withDecodingDefaultKey(Effect.succeed(true)))
    }),
    Schema.Struct({
      ...tk.file.fields,
      lowercase: tk.file.fields.lowercase.pipe(Schema.withDecodingDefaultKey(Effect.succeed(true)))
    })
  ]).pipe(
    Schema.annotate({ expected: `{ kind: "wordpiece", vocabSize?, lowercase? } | { kind: "file", path, lowercase? }` }),
    Schema.withDecodingDefaultKey(Effect.succeed({ kind: "wordpiece" as const }))
  ),
  objective: DataConfig.DataConfig.fields.objective.pipe(Schema.withDecodingDefaultKey(Effect.succeed("mlm" as const))),
  masking: Schema.Struct({
    prob: mk.prob.pipe(Schema.withDecodingDefaultKey(Effect.succeed(0.15))),
    mask: mk.mask.pipe(Schema.withDecodingDefaultKey(Effect.succeed(0.8))),
    random: mk.random.pipe(Schema.withDecodingDefaultKey(Effect.succeed(0.1)))
  }).pipe(Schema.withDecodingDefaultKey(Effect.succeed({}))),
  evalFraction: DataConfig.DataConfig.fields.evalFraction.pipe(Schema.withDecodingDefaultKey(Effect.succeed(0.05)))
})

/** Model defaults for omitted fields (a small BERT). */
export const modelDefaults = { dModel: 128, heads: 4, layers: 2, dFF: 512, seqLen: 64 } as const

const mf = ModelConfig.fields
/** Section `model`. `vocabSize` absent = the tokenizer's. */
export const ModelSection = Schema.Struct({
  dModel: mf.dModel.pipe(Schema.withDecodingDefaultKey(Effect.succeed(modelDefaults.dModel))),
  heads: mf.heads.pipe(Schema.withDecodingDefaultKey(Effect.succeed(modelDefaults.heads))),
  layers: mf.layers.pipe(Schema.withDecodingDefaultKey(Effect.succeed(modelDefaults.layers))),
  dFF: mf.dFF.pipe(Schema.withDecodingDefaultKey(Effect.succeed(modelDefaults.dFF))),
  seqLen: mf.seqLen.pipe(Schema.withDecodingDefaultKey(Effect.succeed(modelDefaults.seqLen))),
  vocabSize: Schema.optionalKey(mf.vocabSize),
  activation: mf.activation.pipe(Schema.withDecodingDefaultKey(Effect.succeed("relu"))),
  ffBias: mf.ffBias.pipe(Schema.withDecodingDefaultKey(Effect.succeed(false))),
  causal: mf.causal.pipe(Schema.withDecodingDefaultKey(Effect.succeed(false))),
  finalLayerNorm: mf.finalLayerNorm.pipe(Schema.withDecodingDefaultKey(Effect.succeed(true)))
}).pipe(
  Schema.check(
    Schema.makeFilter((c: { readonly dModel: number; readonly heads: number }) =>
      c.dModel % c.heads === 0 || { path: ["heads"], issue: `dModel (${c.dModel}) must be divisible by heads (${c.heads})` }
    )
  )
)

/** Train defaults for omitted fields. */
export const trainDefaults = { steps: 1000, batchSize: 32, evalEvery: 100, evalBatches: 4, logEvery: 10, checkpointEvery: 0 } as const

const tf = TrainConfig.TrainConfig.fields
/** Section `train`. */
export const TrainSection = Schema.Struct({
  steps: tf.steps.pipe(Schema.withDecodingDefaultKey(Effect.succeed(trainDefaults.steps))),
  batchSize: tf.batchSize.pipe(Schema.withDecodingDefaultKey(Effect.succeed(trainDefaults.batchSize))),
  evalEvery: tf.evalEvery.pipe(Schema.withDecodingDefaultKey(Effect.succeed(trainDefaults.evalEvery))),
  evalBatches: tf.evalBatches.pipe(Schema.withDecodingDefaultKey(Effect.succeed(trainDefaults.evalBatches))),
  logEvery: tf.logEvery.pipe(Schema.withDecodingDefaultKey(Effect.succeed(trainDefaults.logEvery))),
  checkpointEvery: tf.checkpointEvery.pipe(Schema.withDecodingDefaultKey(Effect.succeed(trainDefaults.checkpointEvery)))
})

/** A stage's schedule; `from` absent = `every` (the first firing is after `every` steps). */
export const ScheduleSection = Schema.Struct({
  every: PositiveInt.pipe(Schema.annotate({ description: "Fire every N steps" })),
  from: Schema.optionalKey(NonNegativeInt.pipe(Schema.annotate({ description: "First step that may fire (default: every)" }))),
  until: Schema.optionalKey(NonNegativeInt.pipe(Schema.annotate({ description: "Last step that may fire" }))),
  times: Schema.optionalKey(PositiveInt.pipe(Schema.annotate({ description: "Fire at most this many times" })))
})

/** One recycling stage. */
export const StageSection = Schema.Struct({
  schedule: ScheduleSection,
  select: SelectRef,
  reinit: PartRef.pipe(Schema.withDecodingDefaultKey(Effect.succeed({ use: "reinit/initial" }))),
  optimizerState: Stage.OptimizerStatePolicy.pipe(Schema.withDecodingDefaultKey(Effect.succeed("zero-moments"))),
  immunity: NonNegativeInt.pipe(Schema.annotate({ description: "Rounds a recycled neuron cannot be chosen again" }), Schema.withDecodingDefaultKey(Effect.succeed(0))),
  scope: Schema.Literals(["per-layer", "global"]).pipe(Schema.withDecodingDefaultKey(Effect.succeed("per-layer"))),
  shadow: Schema.Array(PartRef).pipe(Schema.annotate({ description: "Criteria that choose without acting (their overlap is recorded)" }), Schema.withDecodingDefaultKey(Effect.succeed([])))
})

/** Section `pruning`: the ramp of the cumulative mask and the criterion choosing what to prune. */
export const PruningSection = Schema.Struct({
  ...PruningSchedule.fields,
  criterion: PartRef.pipe(
    Schema.annotate({ description: "A rank criterion choosing which neurons to prune (default select/magnitude-smallest)" }),
    Schema.withDecodingDefaultKey(Effect.succeed({ use: "select/magnitude-smallest" }))
  )
})

/** Section `retrain`: retraining a subset of FF neurons under a fresh optimizer. */
export const RetrainSection = RetrainSettings

/** Section `midpointLoss`: the auxiliary loss on neuron magnitudes, applied decoupled. */
export const MidpointLossSection = MidpointLossConfig

/** Default optimizer and sinks. */
export const sectionDefaults = {
  seed: 1,
  backend: "auto",
  optimizer: { use: "optim/adamw" },
  log: [{ use: "log/console" }, { use: "log/jsonl" }]
} as const

/** The pipeline (generic over parts: part options stay undecoded here). */
export const PipelineSpec = Schema.Struct({
  name: Schema.String.pipe(
    Schema.check(Schema.isPattern(/^[A-Za-z0-9][A-Za-z0-9._=-]*$/, { expected: "a name of letters, digits, '.', '_', '-', '='" })),
    Schema.annotate({ description: "Run name; the run folder is runs/<name>-<hash>/" })
  ),
  seed: Schema.Int.pipe(Schema.withDecodingDefaultKey(Effect.succeed(sectionDefaults.seed))),
  backend: Backend.pipe(Schema.withDecodingDefaultKey(Effect.succeed(sectionDefaults.backend))),
  data: DataSection.pipe(Schema.withDecodingDefaultKey(Effect.succeed({}))),
  model: ModelSection.pipe(Schema.withDecodingDefaultKey(Effect.succeed({}))),
  optimizer: PartRef.pipe(Schema.withDecodingDefaultKey(Effect.succeed(sectionDefaults.optimizer))),
  train: TrainSection.pipe(Schema.withDecodingDefaultKey(Effect.succeed({}))),
  recycling: Schema.Array(StageSection).pipe(Schema.withDecodingDefaultKey(Effect.succeed([]))),
  pruning: Schema.optionalKey(PruningSection.pipe(Schema.annotate({ description: "Gradual pruning (absent = none)" }))),
  retrain: Schema.optionalKey(RetrainSection.pipe(Schema.annotate({ description: "Retrain a subset of FF neurons (absent = none)" }))),
  midpointLoss: Schema.optionalKey(MidpointLossSection.pipe(Schema.annotate({ description: "Midpoint loss on FF magnitudes, applied decoupled (absent = none)" }))),
  probes: Schema.Array(PartRef).pipe(Schema.withDecodingDefaultKey(Effect.succeed([]))),
  log: Schema.Array(PartRef).pipe(Schema.withDecodingDefaultKey(Effect.succeed([...sectionDefaults.log])))
})

/** A decoded pipeline (parts not yet resolved). */
export type PipelineSpec = typeof PipelineSpec.Type
/** What a pipeline file may contain (before defaults). */
export type PipelineSpecInput = typeof PipelineSpec.Encoded
