/**
 * Threaded wasm loading in a fresh process (vitest runs each file in its own worker process):
 * the loader shim brings up the threaded-SIMD binary and the pool gets the threads asked for.
 */
import { createRequire } from "node:module"
import * as tf from "@tensorflow/tfjs-core"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import * as Backends from "../src/Backends.ts"
import * as ThreadedWasmLoader from "../src/ThreadedWasmLoader.ts"
import * as WasmBackend from "../src/WasmBackend.ts"

/** `os` as the emscripten glue sees it (CommonJS), not the ESM namespace (whose bindings are fixed). */
const os: { cpus: () => Array<unknown> } = createRequire(import.meta.url)("node:os")

describe("threaded wasm", () => {
  it("reports threads >= 1 and, when the threaded binary loaded, exactly the threads asked for", async () => {
    const info = await Effect.runPromise(Backends.init({ name: "wasm", threads: 2 }))
    const status = WasmBackend.status()!
    expect(info.threads).toBeGreaterThanOrEqual(1)
    expect(info.simd).toBe(true)
    expect(status.requested).toBe(2)
    if (status.fallbackReason === undefined) {
      expect(status.threaded).toBe(true)
      expect(info.threads).toBe(2)
    } else {
      expect(info.threads).toBe(1)
    }
    // the backend computes correctly either way
    const y = tf.tidy(() => Array.from(tf.matMul(tf.ones([64, 32]), tf.ones([32, 8])).dataSync()))
    expect(new Set(y)).toEqual(new Set([32]))
  })

  it("keeps the first thread count for the life of the process", async () => {
    const first = WasmBackend.status()!
    const again = await Effect.runPromise(Backends.init({ name: "wasm", threads: 1 }))
    expect(again.threads).toBe(first.threads)
  })

  it("withCpuCount reports more cores only inside the callback, also when it rejects", async () => {
    const real = os.cpus().length
    const inside = await ThreadedWasmLoader.withCpuCount(real + 6, async () => os.cpus().length)
    expect(inside).toBe(real + 6)
    await expect(ThreadedWasmLoader.withCpuCount(real + 6, () => Promise.reject(new Error("boom")))).rejects.toThrow("boom")
    expect(os.cpus().length).toBe(real)
  })

  it("installs the shim once", () => {
    const shim = ThreadedWasmLoader.install()
    expect(ThreadedWasmLoader.install()).toBe(shim)
    expect(ThreadedWasmLoader.installed()).toBe(shim)
  })
})
