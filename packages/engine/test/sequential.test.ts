/**
 * Sequential XNNPACK calls in the threaded build (its own process: 2 threads): the pool global is
 * found and verified, cleared only inside a call and restored even when the call throws, and
 * batched products give the same bits on the calling thread as on the pool and under the adaptive
 * choice between them (and match cpu).
 */
import * as tf from "@tensorflow/tfjs-core"
import { Effect } from "effect"
import { beforeAll, describe, expect, it } from "vitest"
import * as Backends from "../src/Backends.ts"
import * as WasmBackend from "../src/WasmBackend.ts"
import { internals } from "../src/wasm/WasmHeap.ts"
import * as Sequential from "../src/wasm/Sequential.ts"
import * as WasmOverrides from "../src/wasm/WasmOverrides.ts"
import "../src/Gradients.ts"
import { expectClose, run, seeded, use } from "./compare.ts"

const t = (shape: Array<number>, seed: number) => tf.tensor(seeded(seed, shape.reduce((a, b) => a * b, 1)), shape)

beforeAll(async () => {
  await Effect.runPromise(Backends.init({ name: "wasm", threads: 2, blas: "none" }))
})

const threaded = () => WasmBackend.status()?.threaded === true

describe("Sequential", () => {
  it("finds the pool global of the threaded binary and clears it only inside a call", () => {
    const backend = internals(tf.backend())
    const s = Sequential.of(backend)
    if (!threaded()) {
      expect(s).toBeUndefined()
      return
    }
    expect(s).toBeDefined()
    const getThreads = backend.wasm.cwrap("get_threads_count", "number", []) as () => number
    expect(getThreads()).toBe(2)
    expect(s!(() => getThreads())).toBe(-1)
    expect(getThreads()).toBe(2)
    expect(() => s!(() => {
      throw new Error("boom")
    })).toThrow("boom")
    expect(getThreads()).toBe(2)
  })

  it("batched products: same bits on the calling thread as on the pool, and cpu's values", async () => {
    const f = () => [
      tf.matMul(t([6, 33, 17], 1), t([6, 29, 17], 2), false, true),
      tf.matMul(t([2, 3, 40, 24], 3), t([2, 3, 24, 31], 4)),
      tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.matMul(a, b))))([t([4, 16, 8], 5), t([4, 8, 12], 6)])
    ].flat()
    await use("cpu")
    const expected = run(f)
    await use("wasm")
    const variants: Array<WasmOverrides.OverrideOptions> = [
      { sequentialMaxFlops: 0 },
      { sequentialMaxFlops: 1 << 30, smallProducts: "sequential" },
      { sequentialMaxFlops: 1 << 30, smallProducts: "pool" },
      { sequentialMaxFlops: 1 << 30, smallProducts: "adaptive" }
    ]
    const results = variants.map((options) => {
      WasmOverrides.uninstall()
      WasmOverrides.install(options)
      // adaptive: 8 runs take each shape through both arms (3 timings each) and into its winner
      const runs = Array.from({ length: options.smallProducts === "adaptive" ? 8 : 1 }, () => run(f))
      runs.forEach((r) => r.forEach((x, i) => expect(x.values, `repeat, output ${i}`).toEqual(runs[0]![i]!.values)))
      return runs[0]!
    })
    WasmOverrides.uninstall()
    WasmOverrides.install()
    for (const r of results.slice(1)) r.forEach((x, i) => expect(x.values, `output ${i}`).toEqual(results[0]![i]!.values))
    expectClose("sequential vs cpu", results[1]!, expected, 1e-5)
  })
})
