/**
 * Fallback to one thread when the threaded path fails (fresh process: the first wasm init of a
 * process decides its threads). The failure is injected where the threaded attempt starts.
 */
import * as tf from "@tensorflow/tfjs-core"
import { Cause, Effect } from "effect"
import { describe, expect, it } from "vitest"
import * as Backends from "../src/Backends.ts"
import * as WasmBackend from "../src/WasmBackend.ts"

describe("threaded wasm fallback", () => {
  it("falls back cleanly to 1 thread when the threaded attempt throws", async () => {
    const failing = WasmBackend.make({
      threadedAttempt: () => Promise.reject(new Error("no SharedArrayBuffer today"))
    })
    const info = await Effect.runPromise(Backends.init({ name: "wasm", threads: 2 }, [failing]))
    expect(info).toMatchObject({ name: "wasm", threads: 1, simd: true, overrides: true })
    const status = WasmBackend.status()!
    expect(status.threaded).toBe(false)
    expect(status.fallbackReason).toContain("no SharedArrayBuffer today")
    expect(tf.env().getBool("WASM_HAS_MULTITHREAD_SUPPORT")).toBe(false)
    const y = tf.tidy(() => Array.from(tf.matMul(tf.ones([3, 4]), tf.ones([4, 2]), false, false).dataSync()))
    expect(y).toEqual([4, 4, 4, 4, 4, 4])
  })

  it("refuses a pinned thread count it cannot give (resume, reproduce), naming why", async () => {
    const failing = WasmBackend.make({ threadedAttempt: () => Promise.reject(new Error("no SharedArrayBuffer today")) })
    const exit = await Effect.runPromiseExit(Backends.init({ name: "wasm", threads: 2, pinned: true }, [failing]))
    expect(exit._tag).toBe("Failure")
    const message = exit._tag === "Failure" ? String(Cause.squash(exit.cause)) : ""
    expect(message).toContain("recorded on wasm with 2 threads, but only 1 could be had here")
    expect(message).toContain("no SharedArrayBuffer today")
    // the count it has is fine
    const one = await Effect.runPromise(Backends.init({ name: "wasm", threads: 1, pinned: true }, [failing]))
    expect(one.threads).toBe(1)
  })
})
