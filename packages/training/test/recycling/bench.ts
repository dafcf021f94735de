/**
 * Cost of one recycling event next to one training step, on a 4-layer d 256 dFF 1024 model
 * (batch 16 × 128 tokens, AdamW). Not a test (no timing assertions): run with
 *   npx tsx packages/training/test/recycling/bench.ts [wasm|cpu] [threads]
 * Prints the median of a few repetitions; numbers on a shared machine are noisy.
 */
import { Key } from "@rekindle/core"
import { Backends } from "@rekindle/engine"
import { Model } from "@rekindle/model"
import { adamw } from "@rekindle/plugin-optim"
import { copy, initial, smooth } from "@rekindle/plugin-reinit"
import { dormant, magnitudeSmallest, random } from "@rekindle/plugin-select"
import * as tf from "@tensorflow/tfjs-core"
import { Effect } from "effect"
import { Recycler } from "@rekindle/recycling"
import { TrainLoop } from "@rekindle/loop"
import { countingStream } from "../Synthetic.ts"
import { stage } from "./helpers.ts"

const backend = process.argv[2] ?? "wasm"
const threads = Number(process.argv[3] ?? 2)
await Effect.runPromise(Backends.init({ name: backend, threads }, []))

const config = {
  dModel: 256, heads: 4, layers: 4, dFF: 1024, seqLen: 128, vocabSize: 4096,
  activation: "gelu", ffBias: false, causal: false, finalLayerNorm: true
} as const
const model = Model.make(config)
const loop = TrainLoop.make(model, adamw({ lr: 1e-3 }), model.init(Key.make(1)))
const stream = countingStream({ batchSize: 16, seqLen: config.seqLen, vocabSize: config.vocabSize, seed: 2 })
const probe = Model.toTensors(countingStream({ batchSize: 8, seqLen: config.seqLen, vocabSize: config.vocabSize, seed: 3 }).next())

const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const time = (f: () => void, n: number) =>
  median(Array.from({ length: n }, () => {
    const t = performance.now()
    f()
    return performance.now() - t
  }))

const step = () => {
  const b = Model.toTensors(stream.next())
  loop.step(b).dispose()
  Model.disposeBatch(b)
}
step() // warm up
const stepMs = time(step, 3)
console.log(`${backend} (${threads} threads): training step ${stepMs.toFixed(0)} ms`)

const cases = [
  ["magnitude-smallest 5% + initial + zero-moments", stage({ schedule: { every: 1, from: 0 }, fraction: 0.05 })],
  ["random 10% + copy + zero-moments-and-step", stage({ schedule: { every: 1, from: 0 }, fraction: 0.1, criterion: ["select/random", random()], reinit: ["reinit/copy", copy({ noise: 0.05 })], optimizerState: "zero-moments-and-step" })],
  ["dormant (probe 8×128) + initial", stage({ schedule: { every: 1, from: 0 }, fraction: 0.05, criterion: ["select/dormant", dormant({ tau: 0.1, cap: true })], reinit: ["reinit/initial", initial()] })],
  ["magnitude-smallest 5% + smooth (blend setup)", stage({ schedule: { every: 1, from: 0 }, fraction: 0.05, criterion: ["select/magnitude-smallest", magnitudeSmallest()], reinit: ["reinit/smooth", smooth({ steps: 1000 })] })]
] as const

for (const [label, st] of cases) {
  const r = Recycler.make({ model, stages: [st], key: Key.make(1), probe, lineageEvents: true })
  let s = 0
  const fire = () => {
    const out = r.runDue(s++, { params: loop.params, opt: loop.optState(), optimizer: loop.optimizer })
    loop.setOptState(out.opt)
  }
  fire()
  const ms = time(fire, 3)
  console.log(`  recycling event, ${label}: ${ms.toFixed(0)} ms (${((100 * ms) / stepMs).toFixed(0)}% of a step)`)
  r.dispose()
}
console.log(`tensors alive: ${tf.memory().numTensors}`)
loop.dispose()
