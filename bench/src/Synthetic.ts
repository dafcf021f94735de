/**
 * Synthetic masked-LM batches for benchmarking (uniform random tokens, 15% targets): the cost of
 * a step does not depend on the text, and the benchmark should not pay for loading a corpus.
 */
import { type Batch, Key } from "@rekindle/core"
import type { BatchStream } from "@rekindle/data"

/** A deterministic batch with ~15% target positions. */
const batch = (batchSize: number, seqLen: number, vocabSize: number, index: number): Batch.Batch => {
  const u = Key.uniform(Key.fold(Key.make(1234), index))
  const n = batchSize * seqLen
  const inputIds = new Int32Array(n)
  const positions: Array<number> = []
  const targets: Array<number> = []
  for (let i = 0; i < n; i++) {
    const id = 5 + Math.floor(u() * (vocabSize - 5))
    if (u() < 0.15) {
      positions.push(i)
      targets.push(id)
      inputIds[i] = 4
    } else inputIds[i] = id
  }
  return { batchSize, seqLen, inputIds, targetPositions: Int32Array.from(positions), targetIds: Int32Array.from(targets) }
}

/** A stream cycling over `count` fixed batches. */
export const stream = (batchSize: number, seqLen: number, vocabSize: number, count = 2): BatchStream => {
  const batches = Array.from({ length: count }, (_, i) => batch(batchSize, seqLen, vocabSize, i))
  let index = 0
  return { next: () => batches[index++ % count]!, position: () => ({ epoch: 0, index }) }
}
