/**
 * The fused wasm SIMD kernels against what they replace, per kernel at the reference model's
 * shapes, interleaved (A and B alternate call by call in one process; medians and minima of
 * `--reps` calls). A = the previous set (`simdKernels: false`: stock TF.js kernels composed, JS
 * loops for Adam, LayerNorm, Sum, UnsortedSegmentSum); B = the SIMD kernels. Forward + backward
 * where the kernel has a gradient (through `tf.grad`).
 *
 *   npx tsx packages/engine/bench/fused.ts [--threads N] [--reps 15]
 */
import { parseArgs } from "node:util"
import * as tf from "@tensorflow/tfjs-core"
import { Effect } from "effect"
import * as Backends from "../src/Backends.ts"
import "../src/Gradients.ts"
import * as WasmOverrides from "../src/wasm/WasmOverrides.ts"

const { values } = parseArgs({ options: { threads: { type: "string" }, reps: { type: "string", default: "15" } } })
await Effect.runPromise(Backends.init({ name: "wasm", ...(values.threads === undefined ? {} : { threads: Number(values.threads) }) }))
const reps = Number(values.reps)
const k = (name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown> = {}): tf.Tensor => {
  const out = tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as unknown
  return Array.isArray(out) ? out[0] as tf.Tensor : out as tf.Tensor
}
const has = (name: string) => tf.getKernel(name, "wasm") !== undefined
const mask = tf.tensor2d(Float32Array.from({ length: 128 * 128 }, (_, i) => (i % 128 > Math.floor(i / 128) ? -1e9 : 0)), [128, 128])
/** LayerNorm through the (JS or SIMD) kernel pair with a custom gradient, as the model wires it. */
const ln = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
  tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args[3] as tf.GradSaveFunc
    const [y, mean, rstd] = tf.engine().runKernel("RekindleLayerNorm", { x: args[0], gain: args[1], bias: args[2] } as unknown as tf.NamedTensorMap, { eps: 1e-5 }) as unknown as Array<tf.Tensor>
    save([args[0] as tf.Tensor, args[1] as tf.Tensor, mean!, rstd!])
    return {
      value: y!,
      gradFunc: (dy: tf.Tensor, saved: Array<tf.Tensor>) =>
        tf.engine().runKernel("RekindleLayerNormGrad", { dy, x: saved[0]!, gain: saved[1]!, mean: saved[2]!, rstd: saved[3]! } as unknown as tf.NamedTensorMap, {}) as unknown as Array<tf.Tensor>
    }
  })(x, g, b)

/** Each case: a function of seeded inputs returning the tensors to wait for. */
const cases: Array<[string, () => Array<tf.Tensor>]> = []
const r = (shape: Array<number>, scale = 1) => tf.mul(tf.randomUniform(shape, -1, 1, "float32", 7), scale)
const x2k = r([2048, 256], 2), r2k = r([2048, 256]), g256 = r([256]), b256 = r([256]), dy2k = r([2048, 256])
const h = r([2048, 1024], 2), dyh = r([2048, 1024]), bh = r([1024])
const scores = r([64, 128, 128], 8), dys = r([64, 128, 128])
const logits = r([320, 8192], 10), targets = tf.randomUniform([320], 0, 8192, "int32", 3)
const adamIn = { g: r([256, 1024], 0.02), mu: r([256, 1024], 0.01), nu: tf.abs(r([256, 1024], 1e-3)), bc1: tf.fill([256, 1024], 0.19), bc2: tf.fill([256, 1024], 0.002) }
const ids = tf.randomUniform([2048], 0, 8192, "int32", 5)
/** The output and the gradient for the upstream gradient `dy` (one forward inside `tf.grad`, one backward). */
const withGrad = (f: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor, dy: tf.Tensor) => {
  let y: tf.Tensor | undefined
  const g = tf.grad((z: tf.Tensor) => {
    y = f(z)
    return y
  })(x, dy)
  return [y!, g]
}
cases.push(["residual add + LayerNorm fwd+bwd [2048,256]", () =>
  tf.grads((a: tf.Tensor, b: tf.Tensor) => {
    const [s, y] = has("RekindleAddLayerNorm")
      ? tf.engine().runKernel("RekindleAddLayerNorm", { x: a, r: b, gain: g256, bias: b256 } as unknown as tf.NamedTensorMap, { eps: 1e-5 }) as unknown as Array<tf.Tensor>
      : ((s) => [s, ln(s, g256, b256)])(tf.add(a, b))
    return tf.add(tf.sum(tf.mul(s!, dy2k)), tf.sum(tf.mul(y!, dy2k))) as tf.Scalar
  })([x2k, r2k])])
cases.push(["ReLU fwd+bwd [2048,1024]", () =>
  withGrad((x) => has("RekindleActivation") ? k("RekindleActivation", { x }, { activation: "relu" }) : tf.relu(x), h, dyh)])
cases.push(["bias + GELU fwd+bwd [2048,1024]", () =>
  withGrad((x) => has("RekindleBiasActivation")
    ? k("RekindleBiasActivation", { x, bias: bh }, { activation: "gelu" })
    : ((z) => tf.mul(z, tf.sigmoid(tf.mul(tf.add(z, tf.mul(tf.mul(tf.mul(z, z), z), 0.044715)), 1.5957691216057308))))(tf.add(x, bh)), h, dyh)])
cases.push(["bias add fwd+bwd [2048,256]", () =>
  tf.grads((x: tf.Tensor, b: tf.Tensor) => has("RekindleBiasActivation") ? k("RekindleBiasActivation", { x, bias: b }, { activation: "linear" }) : tf.add(x, b))([x2k, b256], dy2k)])
cases.push(["attention softmax (scale) fwd+bwd [64,128,128]", () =>
  withGrad((x) => has("RekindleSoftmax") ? k("RekindleSoftmax", { x }, { scale: 0.125 }) : tf.softmax(tf.mul(x, 0.125)), scores, dys)])
cases.push(["causal softmax (scale, mask) fwd+bwd [64,128,128]", () =>
  withGrad((x) => has("RekindleSoftmax") ? k("RekindleSoftmax", { x }, { scale: 0.125, causal: true }) : tf.softmax(tf.add(tf.mul(x, 0.125), mask)), scores, dys)])
cases.push(["head softmax cross-entropy fwd+bwd [320,8192]", () => {
  if (!has("RekindleSoftmaxCrossEntropy")) {
    const p = tf.softmax(logits)
    const loss = tf.mean(tf.neg(tf.log(tf.maximum(tf.gather(tf.reshape(p, [-1]), tf.add(tf.range(0, 320 * 8192, 8192, "int32"), targets) as tf.Tensor1D), 1e-37))))
    return [loss, tf.mul(tf.sub(p, tf.cast(tf.oneHot(targets as tf.Tensor1D, 8192), "float32")), tf.div(tf.scalar(1), 320))]
  }
  const [rows, p] = tf.engine().runKernel("RekindleSoftmaxCrossEntropy", { logits, targets } as unknown as tf.NamedTensorMap, { minProbability: 1e-37 }) as unknown as Array<tf.Tensor>
  return [tf.mean(rows!), k("RekindleSoftmaxCrossEntropyGrad", { p: p!, targets, dy: tf.scalar(1) }, { divisor: 320 })]
}])
cases.push(["Adam [256,1024]", () => tf.engine().runKernel("RekindleAdam", adamIn as unknown as tf.NamedTensorMap, { b1: 0.9, b2: 0.999, eps: 1e-8 }) as unknown as Array<tf.Tensor>])
cases.push(["Sum over rows [2048,1024] (bias gradient)", () => [tf.sum(h, 0)]])
cases.push(["UnsortedSegmentSum [2048,256] -> [8192,256] (embedding gradient)", () => [tf.unsortedSegmentSum(x2k, ids as tf.Tensor1D, 8192)]])

/** Wall time of `f` (wasm kernels run synchronously: the outputs exist when it returns). */
const time = (f: () => Array<tf.Tensor>): number => {
  const t0 = performance.now()
  tf.tidy(() => void f())
  return performance.now() - t0
}
const med = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const sets = [{ simdKernels: false }, {}] as const
console.log(`${"kernel".padEnd(66)} A median (min)   B median (min)   B/A median`)
for (const [name, f] of cases) {
  const times: Array<Array<number>> = [[], []]
  for (let i = -1; i < reps; i++) {
    for (let v = 0; v < 2; v++) {
      const j = (i + v + 2) % 2 === 0 ? v : 1 - v
      WasmOverrides.uninstall()
      WasmOverrides.install(sets[j])
      const ms = time(f)
      if (i >= 0) times[j]!.push(ms)
    }
  }
  const [a, b] = times.map((t) => [med(t), Math.min(...t)] as const)
  console.log(`${name.padEnd(66)} ${a![0].toFixed(2).padStart(7)} (${a![1].toFixed(2)})  ${b![0].toFixed(2).padStart(7)} (${b![1].toFixed(2)})  ${(b![0] / a![0]).toFixed(3)}`)
}
WasmOverrides.uninstall()
WasmOverrides.install()
