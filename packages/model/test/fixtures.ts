/** Shared test fixtures: tiny configs, deterministic batches, cpu backend setup. */
import "@tensorflow/tfjs-backend-cpu"
import { type Batch, Key } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import type { ModelConfig } from "../src/ModelConfig.ts"

/** Selects the cpu backend (once per test file). */
export const useCpu = async (): Promise<void> => {
  await tf.setBackend("cpu")
  await tf.ready()
}

/** A tiny BERT-style config. */
export const tiny = (overrides: Partial<ModelConfig> = {}): ModelConfig => ({
  dModel: 8,
  heads: 2,
  layers: 2,
  dFF: 12,
  seqLen: 6,
  vocabSize: 11,
  activation: "relu",
  ffBias: false,
  causal: false,
  finalLayerNorm: true,
  ...overrides
})

/** A deterministic batch: random ids, `targetsPerRow` targets per row at random positions. */
export const batchOf = (c: ModelConfig, batchSize: number, seed = 1, targetsPerRow = 2): Batch.Batch => {
  const u = Key.uniform(Key.make(seed))
  const t = c.seqLen
  const inputIds = Int32Array.from({ length: batchSize * t }, () => Math.floor(u() * c.vocabSize))
  const positions: Array<number> = []
  for (let b = 0; b < batchSize; b++) {
    const perm = Key.permutation(Key.fold(Key.make(seed), b), t)
    for (let j = 0; j < Math.min(targetsPerRow, t); j++) positions.push(b * t + perm[j]!)
  }
  const targetIds = Int32Array.from(positions, () => Math.floor(u() * c.vocabSize))
  return { batchSize, seqLen: t, inputIds, targetPositions: Int32Array.from(positions), targetIds }
}

/** Reads a tensor as a flat JS number array. */
export const values = (t: tf.Tensor): Array<number> => Array.from(t.dataSync())

/** Disposes every tensor of a record. */
export const disposeAll = (m: Readonly<Record<string, tf.Tensor>>): void => {
  for (const t of Object.values(m)) t.dispose()
}

/** Replaces one parameter, returning a new map (the old tensor is not disposed). */
export const withParam = (params: Readonly<Record<string, tf.Tensor>>, name: string, t: tf.Tensor): Record<string, tf.Tensor> => ({
  ...params,
  [name]: t
})
