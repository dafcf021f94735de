/**
 * matMul throughput on the wasm backend, stock kernels vs rekindle's overrides: the three layouts
 * of a dense layer's forward and backward pass at [2048,256] x [256,1024] (NN = forward, TN = xᵀ·g
 * weight gradient, NT = g·Wᵀ input gradient) and an attention-shaped batched QKᵀ.
 *
 *   npx tsx packages/engine/bench/matmul.ts [--threads N] [--reps N] [--json]
 *
 * Prints median milliseconds and GFLOP/s (2·M·K·N per product). Timings on a shared machine are noisy.
 */
import { parseArgs } from "node:util"
import * as tf from "@tensorflow/tfjs-core"
import { Effect } from "effect"
import * as Backends from "../src/Backends.ts"
import * as WasmOverrides from "../src/wasm/WasmOverrides.ts"

const { values } = parseArgs({
  options: {
    threads: { type: "string" },
    reps: { type: "string", default: "5" },
    json: { type: "boolean", default: false }
  }
})
const reps = Number(values.reps)

/** One benchmarked product: stored operand shapes, transposes, and its flop count. */
interface Case {
  readonly name: string
  readonly a: Array<number>
  readonly b: Array<number>
  readonly transposeA: boolean
  readonly transposeB: boolean
  readonly flops: number
}

const M = 2048
const K = 256
const N = 1024
const cases: Array<Case> = [
  { name: "NN [2048,256]x[256,1024]", a: [M, K], b: [K, N], transposeA: false, transposeB: false, flops: 2 * M * K * N },
  { name: "TN [256,2048]ᵀx[256,1024]", a: [K, M], b: [K, N], transposeA: true, transposeB: false, flops: 2 * M * K * N },
  { name: "NT [2048,256]x[1024,256]ᵀ", a: [M, K], b: [N, K], transposeA: false, transposeB: true, flops: 2 * M * K * N },
  { name: "QKᵀ [64,128,64]x[64,128,64]ᵀ", a: [64, 128, 64], b: [64, 128, 64], transposeA: false, transposeB: true, flops: 2 * 64 * 128 * 64 * 128 }
]

const median = (xs: Array<number>): number => {
  const s = [...xs].sort((p, q) => p - q)
  const n = s.length
  return n % 2 === 1 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2
}

/** Median ms of one product (wasm kernels run synchronously: the result is complete on return). */
const time = (c: Case): number => {
  const a = tf.randomUniform(c.a, -1, 1)
  const b = tf.randomUniform(c.b, -1, 1)
  const once = (): number => {
    const t0 = performance.now()
    const y = tf.matMul(a, b, c.transposeA, c.transposeB)
    const ms = performance.now() - t0
    y.dispose()
    return ms
  }
  once()
  const ms = median(Array.from({ length: reps }, once))
  a.dispose()
  b.dispose()
  return ms
}

const request = values.threads === undefined ? { name: "wasm" } : { name: "wasm", threads: Number(values.threads) }
const info = await Effect.runPromise(Backends.init(request))
const rows: Array<{ case: string; overrides: boolean; ms: number; gflops: number }> = []
for (const overrides of [false, true]) {
  if (overrides) WasmOverrides.install()
  else WasmOverrides.uninstall()
  for (const c of cases) {
    const ms = time(c)
    rows.push({ case: c.name, overrides, ms: +ms.toFixed(2), gflops: +(c.flops / (ms / 1000) / 1e9).toFixed(2) })
  }
}
if (values.json) {
  console.log(JSON.stringify({ backend: info, reps, rows }))
} else {
  console.log(`wasm, ${info.threads} thread(s), simd ${info.simd}; median of ${reps} (shared machine: noisy)`)
  console.log(`${"product".padEnd(32)} ${"stock ms".padStart(9)} ${"GFLOP/s".padStart(8)} ${"override ms".padStart(12)} ${"GFLOP/s".padStart(8)}`)
  for (const c of cases) {
    const s = rows.find((r) => r.case === c.name && !r.overrides)!
    const o = rows.find((r) => r.case === c.name && r.overrides)!
    console.log(`${c.name.padEnd(32)} ${s.ms.toFixed(1).padStart(9)} ${s.gflops.toFixed(1).padStart(8)} ${o.ms.toFixed(1).padStart(12)} ${o.gflops.toFixed(1).padStart(8)}`)
  }
}
