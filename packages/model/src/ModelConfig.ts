/**
 * The transformer's configuration as a Schema (decoded from pipelines). BERT-style encoder by
 * default (pre-LayerNorm, bias-free ReLU FF, Kaiming-uniform FF init); `causal: true` gives a
 * GPT-style decoder. `dFF: 0` removes the FF sublayer entirely.
 */
import { Schemas } from "@rekindle/core"
import { Schema } from "effect"
const { PositiveInt, NonNegativeInt } = Schemas

/** Model configuration (pipeline section `model`). */
export const ModelConfig = Schema.Struct({
  dModel: PositiveInt,
  heads: PositiveInt,
  layers: PositiveInt,
  /** Hidden width of each FF layer; 0 = no FF sublayer. */
  dFF: NonNegativeInt,
  seqLen: PositiveInt,
  /** Size of the vocabulary; must match the tokenizer's (pipelines derive it when absent). */
  vocabSize: PositiveInt,
  activation: Schema.Literals(["relu", "gelu"]),
  ffBias: Schema.Boolean,
  causal: Schema.Boolean,
  finalLayerNorm: Schema.Boolean
}).pipe(
  Schema.check(
    Schema.makeFilter((c: { dModel: number; heads: number }) =>
      c.dModel % c.heads === 0 || { path: ["heads"], issue: `dModel (${c.dModel}) must be divisible by heads (${c.heads})` }
    )
  )
)

/** Model configuration (type). */
export type ModelConfig = typeof ModelConfig.Type

/** Defaults applied by pipelines for omitted fields (except sizes). */
const defaults = {
  activation: "relu",
  ffBias: false,
  causal: false,
  finalLayerNorm: true
} as const satisfies Partial<ModelConfig>
