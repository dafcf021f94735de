/**
 * The long-run memory check: trains the framework loop for many steps (default 1,000) and samples
 * RSS, the wasm heap and the live tensor count at intervals. Flat tensor counts and a flat RSS
 * after the first steps mean nothing leaks. Not part of `npm test` (minutes to hours).
 */
import "@rekindle/engine/Gradients"
import { Key } from "@rekindle/core"
import { Model } from "@rekindle/model"
import { adam } from "@rekindle/plugin-optim"
import { TrainLoop } from "@rekindle/training"
import * as tf from "@tensorflow/tfjs-core"
import type { BenchConfig } from "./Configs.ts"
import * as Synthetic from "./Synthetic.ts"

/** One sample of the memory check. */
export interface MemorySample {
  readonly step: number
  readonly rssMb: number
  readonly heapMb: number
  readonly tensors: number
  readonly msPerStep: number
}

/** Bytes of the backend's own memory (the wasm heap), when it has one. */
const backendHeapMb = (): number => {
  const b = tf.backend() as { wasm?: { HEAPU8?: Uint8Array } }
  return (b.wasm?.HEAPU8?.length ?? 0) / 2 ** 20
}

/** Trains `steps` steps and calls `report` with a sample every `every` steps (and after step 1). */
export const check = (c: BenchConfig, steps: number, every: number, report: (s: MemorySample) => void): Array<MemorySample> => {
  const model = Model.make(c.model)
  const stream = Synthetic.stream(c.batchSize, c.model.seqLen, c.model.vocabSize, 8)
  const loop = TrainLoop.make(model, adam({ lr: 1e-3 }), model.init(Key.make(1)))
  const samples: Array<MemorySample> = []
  let t0 = performance.now()
  let since = 0
  for (let s = 1; s <= steps; s++) {
    const b = Model.toTensors(stream.next())
    loop.step(b).dispose()
    Model.disposeBatch(b)
    since++
    if (s === 1 || s % every === 0 || s === steps) {
      const now = performance.now()
      const sample = {
        step: s,
        rssMb: process.memoryUsage().rss / 2 ** 20,
        heapMb: backendHeapMb(),
        tensors: tf.memory().numTensors,
        msPerStep: (now - t0) / since
      }
      samples.push(sample)
      report(sample)
      t0 = now
      since = 0
    }
  }
  loop.dispose()
  return samples
}
