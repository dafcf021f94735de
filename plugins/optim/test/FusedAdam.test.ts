/**
 * The fused Adam path (the wasm engine's `RekindleAdam` kernel) gives the same parameters and
 * slots as the op-by-op composition, bit for bit, over several steps of adam and adamw, including
 * a slot reset (recycling) in the middle; and it is really the path taken on wasm.
 */
import { Backends } from "@rekindle/engine"
import * as tf from "@tensorflow/tfjs-core"
import { Effect } from "effect"
import { beforeAll, describe, expect, it } from "vitest"
import { adamComposed, fusedKernelName, hasFusedKernel } from "../src/Adam.ts"
import { adam, adamw } from "../src/Optimizers.ts"
import { Slots } from "@rekindle/core"
const { resetSlices } = Slots
import { disposeRun, disposeState, read, run } from "./fixtures.ts"

beforeAll(async () => {
  await Effect.runPromise(Backends.init({ name: "wasm", threads: 1 }))
})

const optimizers = [
  ["adam", () => adam({ lr: 0.01 })],
  ["adamw", () => adamw({ lr: 0.01, weightDecay: 0.1, betas: [0.8, 0.99] })]
] as const

/** Runs the fixture with the fused kernel registered or hidden. */
const withKernel = <A>(on: boolean, f: () => A): A => {
  const k = tf.getKernel(fusedKernelName, "wasm")!
  if (!on) tf.unregisterKernel(fusedKernelName, "wasm")
  try {
    return f()
  } finally {
    if (!on) tf.registerKernel(k)
  }
}

describe("fused Adam on wasm", () => {
  it("is registered by the engine and taken", () => {
    expect(tf.getBackend()).toBe("wasm")
    expect(hasFusedKernel()).toBe(true)
    const calls: Array<string> = []
    const k = tf.getKernel(fusedKernelName, "wasm")!
    tf.unregisterKernel(fusedKernelName, "wasm")
    tf.registerKernel({ ...k, kernelFunc: (args) => (calls.push("fused"), k.kernelFunc(args)) })
    try {
      disposeRun(run(adam({ lr: 0.01 }), 1))
    } finally {
      tf.unregisterKernel(fusedKernelName, "wasm")
      tf.registerKernel(k)
    }
    expect(calls.length).toBe(4) // one per parameter of the fixture
  })

  it.each(optimizers)("%s: same params and slots as the composition, bit for bit", (_name, make) => {
    const [fused, composed] = [true, false].map((on) =>
      withKernel(on, () => {
        const r = run(make(), 5)
        const out = { params: read(r.params), slots: Object.fromEntries(Object.entries(r.state.slots).map(([k, v]) => [k, read(v)])) }
        disposeRun(r)
        return out
      })
    )
    expect(fused).toEqual(composed)
  })

  it("matches the composition after a recycling reset of some slices", () => {
    const results = [true, false].map((on) =>
      withKernel(on, () => {
        const opt = adam({ lr: 0.01 })
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

  it("falls back to the composition for mismatched slot sizes (none in practice) without throwing", () => {
    const [u] = tf.tidy(() => adamComposed(tf.ones([2]), tf.zeros([2]), tf.zeros([2]), tf.zeros([2]), tf.zeros([2]), 0.9, 0.999, 1e-8).map((t) => t.dataSync()))
    expect(Array.from(u!)).toEqual([1, 1].map((x) => Math.fround(x / (1 + 1e-8))))
  })
})
