/**
 * Times the model's loss + gradients (forward and backward, no optimizer) on the reference
 * config (4 layers, d 256, 4 heads, dFF 1024, seq 128, batch 16, vocab 8192) on the wasm backend
 * with the engine's overrides. Usage: `npx tsx packages/model/bench/step.ts [threads] [relu|gelu] [causal|mlm]`.
 * Prints median ms per step, tokens/s and effective GFLOP/s (matMul FLOPs from `flops`).
 */
import { Key } from "@rekindle/core"
import { Backends } from "@rekindle/engine"
import * as tf from "@tensorflow/tfjs-core"
import { Effect } from "effect"
import { disposeBatch, toTensors } from "../src/BatchTensors.ts"
import { flops } from "../src/Flops.ts"
import type { ModelConfig } from "../src/ModelConfig.ts"
import * as Transformer from "../src/Transformer.ts"

const threads = Number(process.argv[2] ?? 2)
const activation = (process.argv[3] ?? "relu") as "relu" | "gelu"
const causal = (process.argv[4] ?? "causal") === "causal"
const c: ModelConfig = { dModel: 256, heads: 4, layers: 4, dFF: 1024, seqLen: 128, vocabSize: 8192, activation, ffBias: false, causal, finalLayerNorm: true }
const batchSize = 16
const info = await Effect.runPromise(Backends.init({ name: "wasm", threads }))
const model = Transformer.make(c)
const params = model.init(Key.make(1))
const u = Key.uniform(Key.make(2))
const n = batchSize * c.seqLen
const inputIds = Int32Array.from({ length: n }, () => Math.floor(u() * c.vocabSize))
const positions = causal ? Array.from({ length: n }, (_, i) => i) : Array.from({ length: n }, (_, i) => i).filter(() => u() < 0.15)
const batch = toTensors({
  batchSize, seqLen: c.seqLen, inputIds,
  targetPositions: Int32Array.from(positions),
  targetIds: Int32Array.from(positions, () => Math.floor(u() * c.vocabSize))
})
const names = Object.keys(params)
const step = () => tf.tidy(() => {
  const { value, grads } = tf.valueAndGrads((...ts: Array<tf.Tensor>) => model.loss(Object.fromEntries(names.map((k, i) => [k, ts[i]!])), batch))(names.map((k) => params[k]!))
  grads.forEach((g) => g.dataSync())
  return value.dataSync()[0]!
})
const times: Array<number> = []
for (let i = 0; i < 7; i++) {
  const t0 = performance.now()
  const loss = step()
  times.push(performance.now() - t0)
  if (i === 0) console.log(`loss ${loss.toFixed(4)}`)
}
const median = [...times.slice(2)].sort((a, b) => a - b)[2]!
const f = flops(c, batchSize, positions.length).forwardBackward
console.log(JSON.stringify({ backend: info, activation, causal, targets: positions.length, medianMs: +median.toFixed(1), tokensPerSec: Math.round(n / (median / 1000)), gflopPerStep: +(f / 1e9).toFixed(2), gflops: +(f / 1e9 / (median / 1000)).toFixed(1), times: times.map((t) => Math.round(t)) }))
disposeBatch(batch)
tf.dispose(Object.values(params))
