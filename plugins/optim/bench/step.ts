/**
 * Optimizer step benchmark on a ~5M-parameter transformer-shaped set (dModel 256, dFF 1024,
 * 4 layers, vocab 8000): kernel count and ms per update for sgd-momentum, adam, adamw, and the
 * cost of float32 subnormal arithmetic (why Adam keeps `1 - b^t` instead of `b^t`).
 * Run: npx tsx plugins/optim/bench/step.ts [wasm|cpu] [threads]
 */
import { Backends } from "@rekindle/engine"
import * as tf from "@tensorflow/tfjs-core"
import { Effect } from "effect"
import { tidy } from "@rekindle/engine"
import { adam, adamw, sgd } from "../src/index.ts"
import type { Optimizer } from "@rekindle/core"

const backend = process.argv[2] ?? "wasm"
const threads = Number(process.argv[3] ?? 2)
const info = await Effect.runPromise(Backends.init({ name: backend, threads }))

const shapes: Record<string, Array<number>> = { "embed.tok": [8000, 256], "embed.pos": [128, 256] }
for (let l = 0; l < 4; l++) {
  for (const w of ["q", "k", "v", "o"]) shapes[`layers.${l}.attn.${w}`] = [256, 256]
  shapes[`layers.${l}.ff.win`] = [256, 1024]
  shapes[`layers.${l}.ff.bin`] = [1024]
  shapes[`layers.${l}.ff.wout`] = [1024, 256]
  shapes[`layers.${l}.ff.bout`] = [256]
  for (const n of ["ln1.g", "ln1.b", "ln2.g", "ln2.b"]) shapes[`layers.${l}.${n}`] = [256]
}
const params = Object.fromEntries(Object.entries(shapes).map(([n, s]) => [n, tf.randomNormal(s, 0, 0.02)]))
const grads = Object.fromEntries(Object.entries(shapes).map(([n, s]) => [n, tf.randomNormal(s, 0, 0.01)]))
const size = Object.values(params).reduce((a, t) => a + t.size, 0)
console.log(`backend ${info.name} threads ${info.threads}; ${Object.keys(shapes).length} params, ${(size / 1e6).toFixed(2)}M scalars`)

const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const bench = async (label: string, opt: Optimizer.Optimizer, steps = 12) => {
  let state = tidy(() => opt.init(params))
  const prof = await tf.profile(() => {
    const [u, s] = opt.update(grads, state, params)
    return [...Object.values(u), ...Object.values(s.slots).flatMap((m) => Object.values(m))]
  })
  tf.dispose(prof.result)
  const times: Array<number> = []
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now()
    const next = tidy(() => {
      const [u, s] = opt.update(grads, state, params)
      const sum = tf.addN(Object.values(u).map((x) => tf.sum(x)))
      return { s, sum }
    })
    await next.sum.data()
    times.push(performance.now() - t0)
    next.sum.dispose()
    const keep = new Set(Object.values(next.s.slots).flatMap((m) => Object.values(m)))
    for (const t of Object.values(state.slots).flatMap((m) => Object.values(m))) if (!keep.has(t)) t.dispose()
    state = next.s
  }
  for (const t of Object.values(state.slots).flatMap((m) => Object.values(m))) t.dispose()
  const kernels = prof.kernels.length
  console.log(`${label.padEnd(22)} ${String(kernels).padStart(5)} kernels/step (${(kernels / Object.keys(shapes).length).toFixed(1)} per param)  median ${median(times).toFixed(1)} ms/update (incl. a sum readback)`)
}

await bench("sgd momentum 0.9", sgd({ lr: 0.1, momentum: 0.9 }))
await bench("adam", adam({ lr: 1e-3 }))
await bench("adamw", adamw({ lr: 1e-3, weightDecay: 0.01 }))
await bench("adamw + clip 1.0", adamw({ lr: 1e-3, weightDecay: 0.01, clipNorm: 1 }))

// float32 subnormals: multiply 5M elements that are normal vs subnormal by 0.9
const n = 5_000_000
for (const [label, v] of [["normal (0.5)", 0.5], ["subnormal (1e-40)", 1e-40]] as const) {
  const x = tf.fill([n], v)
  const times: Array<number> = []
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now()
    const y = tf.mul(x, 0.9)
    await y.data()
    times.push(performance.now() - t0)
    y.dispose()
  }
  x.dispose()
  console.log(`mul of 5M ${label.padEnd(18)} median ${median(times).toFixed(1)} ms (incl. readback)`)
}
