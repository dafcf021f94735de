/**
 * A tiny, learnable synthetic MLM task for trainer tests: each sequence counts upward from a random
 * start (mod the non-special vocabulary), so a masked token is predictable from its neighbours.
 */
import { type Batch, Key } from "@rekindle/core"
import type { BatchStream } from "@rekindle/data"

const specials = 5

/** A deterministic stream of counting sequences with 15% of positions masked (id 4 = [MASK]). */
export const countingStream = (options: { batchSize: number; seqLen: number; vocabSize: number; seed: number }): BatchStream => {
  let index = 0
  const span = options.vocabSize - specials
  const next = (): Batch.Batch => {
    const u = Key.uniform(Key.fold(Key.make(options.seed), index++))
    const n = options.batchSize * options.seqLen
    const inputIds = new Int32Array(n)
    const positions: Array<number> = []
    const targets: Array<number> = []
    for (let b = 0; b < options.batchSize; b++) {
      const start = Math.floor(u() * span)
      for (let t = 0; t < options.seqLen; t++) {
        const id = specials + ((start + t) % span)
        const flat = b * options.seqLen + t
        if (u() < 0.15 || t === 3) {
          positions.push(flat)
          targets.push(id)
          inputIds[flat] = 4
        } else inputIds[flat] = id
      }
    }
    return {
      batchSize: options.batchSize,
      seqLen: options.seqLen,
      inputIds,
      targetPositions: Int32Array.from(positions),
      targetIds: Int32Array.from(targets)
    }
  }
  return { next, position: () => ({ epoch: 0, index }) }
}
