/**
 * The fused Adam paths (the wasm engine's `RekindleAdamW` kernel: Adam, decay and learning rate in
 * one; `RekindleAdam` with the tail composed) give the same parameters and slots as the op-by-op
 * composition, bit for bit, over several steps of adam and adamw (with a schedule and a decay
 * mask), including a slot reset (recycling) in the middle; and they are really the paths taken.
 * `apply` (the new parameters from the optimizer: `RekindleAdamWApply`, or the update then an add
 * where that kernel is missing) gives the same bits as `update` followed by the host's add.
 */
import { Backends } from "@rekindle/engine"
import * as tf from "@tensorflow/tfjs-core"
import { Effect } from "effect"
import { beforeAll, describe, expect, it } from "vitest"
import { adamComposed, fusedKernelName, hasFusedKernel } from "../src/Adam.ts"
import { fusedApplyKernelName, fusedTailKernelName, hasFusedTailKernel } from "../src/AdamTail.ts"
import { adam, adamw } from "../src/Optimizers.ts"
import { Slots } from "@rekindle/core"
const { resetSlices } = Slots
import { disposeRun, disposeState, read, run } from "./fixtures.ts"

beforeAll(async () => {
  await Effect.runPromise(Backends.init({ name: "wasm", threads: 1 }))
})

const optimizers = [
  ["adam", () => adam({ lr: 0.01 })],
  ["adamw", () => adamw({ lr: 0.01, weightDecay: 0.1, betas: [0.8, 0.99] })],
  ["adamw, warmup-cosine, decay on vectors too", () =>
    adamw({ lr: 0.02, weightDecay: 0.05, decayMask: "all", schedule: { kind: "warmup-cosine", warmupSteps: 2 }, totalSteps: 6 })]
] as const

/** Which fused kernels are visible: both, `RekindleAdam` only (tail composed), none. */
type Mode = "tail" | "adam" | "none"

/** Runs the fixture with the fused kernels registered or hidden (`on`: boolean = tail or none). */
const withKernel = <A>(on: boolean | Mode, f: () => A): A => {
  const mode: Mode = on === true ? "tail" : on === false ? "none" : on
  const hide = mode === "tail" ? [] : mode === "adam" ? [fusedTailKernelName] : [fusedTailKernelName, fusedKernelName]
  const kept = hide.map((name) => tf.getKernel(name, "wasm")!)
  for (const name of hide) tf.unregisterKernel(name, "wasm")
  try {
    return f()
  } finally {
    for (const k of kept) tf.registerKernel(k)
  }
}

describe("fused Adam on wasm", () => {
  it.each([[fusedTailKernelName, "tail"], [fusedKernelName, "adam"]] as const)("%s is registered by the engine and taken", (name, mode) => {
    expect(tf.getBackend()).toBe("wasm")
    expect(hasFusedKernel()).toBe(true)
    expect(hasFusedTailKernel()).toBe(true)
    const calls: Array<string> = []
    withKernel(mode, () => {
      const k = tf.getKernel(name, "wasm")!
      tf.unregisterKernel(name, "wasm")
      tf.registerKernel({ ...k, kernelFunc: (args) => (calls.push("fused"), k.kernelFunc(args)) })
      try {
        disposeRun(run(adamw({ lr: 0.01 }), 1))
      } finally {
        tf.unregisterKernel(name, "wasm")
        tf.registerKernel(k)
      }
    })
    expect(calls.length).toBe(4) // one per parameter of the fixture
  })

  it.each(optimizers)("%s: same params and slots on both fused paths as the composition, bit for bit", (_name, make) => {
    const [tail, adamOnly, composed] = (["tail", "adam", "none"] as const).map((mode) =>
      withKernel(mode, () => {
        const r = run(make(), 5)
        const out = { params: read(r.params), slots: Object.fromEntries(Object.entries(r.state.slots).map(([k, v]) => [k, read(v)])) }
        disposeRun(r)
        return out
      })
    )
    expect(tail).toEqual(composed)
    expect(adamOnly).toEqual(composed)
  })

  it("matches the composition after a recycling reset of some slices", () => {
    const results = [true, false].map((on) =>
      withKernel(on, () => {
        const opt = adamw({ lr: 0.01, weightDecay: 0.1 })
        const r = run(opt, 3)
        const reset = resetSlices(r.state, opt, [{ param: "ff.win", axis: 1, indices: [1, 3] }], "zero-moments-and-step")
        disposeState(r.state, reset)
        const grads = { "ff.win": tf.fill([3, 5], 0.5), "ff.bin": tf.fill([5], -0.25), "ff.wout": tf.fill([5, 3], 0.1), "ln.gain": tf.fill([3], 1) }
        const [updates, next] = opt.update(grads, reset, r.params)
        const out = read(updates)
        tf.dispose([...Object.values(grads), ...Object.values(updates)])
        disposeState(reset, next)
        disposeRun({ params: r.params, state: next })
        return out
      })
    )
    expect(results[0]).toEqual(results[1])
  })

  it.each(optimizers)("%s: apply (fused, and update + add without the kernel) equals update then p + u, bit for bit", (_name, make) => {
    const steps = (apply: boolean, hide: Array<string> = []) => {
      const kept = hide.map((name) => tf.getKernel(name, "wasm")!)
      for (const name of hide) tf.unregisterKernel(name, "wasm")
      try {
        const r = run(make(), 5, { apply })
        const out = { params: read(r.params), slots: Object.fromEntries(Object.entries(r.state.slots).map(([k, v]) => [k, read(v)])) }
        disposeRun(r)
        return out
      } finally {
        for (const k of kept) tf.registerKernel(k)
      }
    }
    const reference = steps(false)
    expect(steps(true)).toEqual(reference)
    expect(steps(true, [fusedApplyKernelName])).toEqual(reference)
    expect(steps(true, [fusedApplyKernelName, fusedTailKernelName, fusedKernelName])).toEqual(reference)
  })

  it("apply takes RekindleAdamWApply, once per parameter", () => {
    const k = tf.getKernel(fusedApplyKernelName, "wasm")!
    let calls = 0
    tf.unregisterKernel(fusedApplyKernelName, "wasm")
    tf.registerKernel({ ...k, kernelFunc: (args) => (calls++, k.kernelFunc(args)) })
    try {
      disposeRun(run(adamw({ lr: 0.01 }), 1, { apply: true }))
    } finally {
      tf.unregisterKernel(fusedApplyKernelName, "wasm")
      tf.registerKernel(k)
    }
    expect(calls).toBe(4)
  })

  it("falls back to the composition for mismatched slot sizes (none in practice) without throwing", () => {
    const [u] = tf.tidy(() => adamComposed(tf.ones([2]), tf.zeros([2]), tf.zeros([2]), tf.zeros([2]), tf.zeros([2]), 0.9, 0.999, 1e-8).map((t) => t.dataSync()))
    expect(Array.from(u!)).toEqual([1, 1].map((x) => Math.fround(x / (1 + 1e-8))))
  })
})
