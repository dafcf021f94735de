/** Shared fixtures of the experiment tests: a tiny model on the counting task, a loop, batches. */
import { Key, type Optimizer } from "@rekindle/core"
import { Model } from "@rekindle/model"
import { adamw } from "@rekindle/plugin-optim"
import * as tf from "@tensorflow/tfjs-core"
import { TrainLoop } from "@rekindle/loop"
import { countingStream } from "../Synthetic.ts"

export const config = {
  dModel: 16, heads: 2, layers: 2, dFF: 24, seqLen: 8, vocabSize: 21,
  activation: "relu", ffBias: true, causal: false, finalLayerNorm: true
} as const

export const trainConfig = (steps: number) => ({ steps, batchSize: 4, evalEvery: 0, evalBatches: 1, logEvery: 5, checkpointEvery: 0 })

/** A fresh loop (AdamW with weight decay by default, so frozen-ness is not an accident of zero gradients). */
export const setup = (optimizer: Optimizer.Optimizer = adamw({ lr: 1e-2, weightDecay: 0.1 }), seed = 1) => {
  const model = Model.make(config)
  const loop = TrainLoop.make(model, optimizer, model.init(Key.make(seed)))
  const stream = countingStream({ batchSize: 4, seqLen: config.seqLen, vocabSize: config.vocabSize, seed: 2 })
  const evalSet = [Model.toTensors(countingStream({ batchSize: 4, seqLen: config.seqLen, vocabSize: config.vocabSize, seed: 99 }).next())]
  const dispose = () => {
    loop.dispose()
    evalSet.forEach(Model.disposeBatch)
  }
  return { model, loop, stream, evalSet, dispose }
}

/** Copies of every parameter's values (plain arrays). */
export const snapshot = (params: Readonly<Record<string, tf.Tensor>>): Record<string, Float32Array> =>
  Object.fromEntries(Object.entries(params).map(([n, t]) => [n, Float32Array.from(t.dataSync() as Float32Array)]))

/** One step on the next batch. */
export const stepOnce = (s: ReturnType<typeof setup>, options?: Parameters<TrainLoop.TrainLoop["step"]>[1], stepOptions?: TrainLoop.StepOptions) => {
  const b = Model.toTensors(s.stream.next())
  s.loop.step(b, options, stepOptions).dispose()
  Model.disposeBatch(b)
}

/** Indices i along `axis` of a 2-D/1-D array of `shape` where any element of slice i differs. */
export const changedSlices = (a: Float32Array, b: Float32Array, shape: ReadonlyArray<number>, axis: number): Array<number> => {
  const n = shape[axis]!
  const inner = shape.slice(axis + 1).reduce((x, y) => x * y, 1)
  const changed = new Set<number>()
  for (let k = 0; k < a.length; k++) {
    if (a[k] !== b[k]) changed.add(Math.floor(k / inner) % n)
  }
  return [...changed].sort((x, y) => x - y)
}
