/**
 * The benchmark's fixed model configurations: `tiny` (a smoke size), `reference` (the reference
 * study's BERT: 4 layers, d 256, 4 heads, d_ff 1024, seq 128, batch 16, vocab 8192, ReLU FF) and
 * `wide` (the reference with d_ff 4096).
 */
import type { ModelConfig } from "@rekindle/model"

/** One benchmark configuration: a model and its batch size. */
export interface BenchConfig {
  readonly name: string
  readonly model: ModelConfig
  readonly batchSize: number
}

const reference: ModelConfig = {
  dModel: 256, heads: 4, layers: 4, dFF: 1024, seqLen: 128, vocabSize: 8192,
  activation: "relu", ffBias: false, causal: false, finalLayerNorm: true
}

/** All benchmark configurations by name. */
export const configs: Readonly<Record<string, BenchConfig>> = {
  tiny: { name: "tiny", batchSize: 16, model: { ...reference, dModel: 128, heads: 4, layers: 2, dFF: 512, seqLen: 64, vocabSize: 4096 } },
  reference: { name: "reference", batchSize: 16, model: reference },
  wide: { name: "wide", batchSize: 16, model: { ...reference, dFF: 4096 } }
}
