/**
 * Backend selection: unknown names, bad threads, `auto`, plugin providers, idempotence, switching,
 * and the Engine layer.
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { BackendError, type BackendInfo, type BackendProvider, UserError } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import { Effect } from "effect"
import * as Backends from "../src/Backends.ts"
import { Engine } from "../src/Engine.ts"

/** A provider double: reports the given availability and switches tfjs to cpu when chosen. */
const fake = (name: string, priority: number, available: boolean, fails = false): BackendProvider => ({
  name,
  priority,
  available: Effect.succeed(available),
  init: () =>
    fails
      ? Effect.fail(new BackendError({ backend: name, message: `${name} exploded` }))
      : Effect.map(Backends.cpu.init({ threads: 1 }), (info): BackendInfo => ({ ...info, name }))
})

describe("Backends.init", () => {
  it.effect("rejects an unknown name with a UserError naming backend and the known names", () =>
    Effect.gen(function*() {
      const e = yield* Effect.flip(Backends.init({ name: "tpu" }, [fake("node", 20, false)]))
      assert.instanceOf(e, UserError)
      expect(e.message).toMatch(/^backend: /)
      for (const n of ["auto", "wasm", "cpu", "node", "tpu"]) expect(e.message).toContain(`"${n}"`)
      expect(e.problems?.[0]?.path).toBe("backend")
    }))

  it.effect("rejects a known but unavailable provider", () =>
    Effect.gen(function*() {
      const e = yield* Effect.flip(Backends.init({ name: "node" }, [fake("node", 20, false)]))
      expect(e.message).toContain("not available")
      expect(e.problems?.[0]?.path).toBe("backend")
      const hinted = yield* Effect.flip(Backends.init({ name: "node" }, [{ ...fake("node", 20, false), requires: "npm install some-native-package" }]))
      expect(hinted.message).toBe(`backend: "node" is not available here; it needs: npm install some-native-package`)
    }))

  it.effect("rejects threads that are not a whole number >= 1", () =>
    Effect.gen(function*() {
      for (const threads of [0, -1, 1.5, Number.NaN]) {
        const e = yield* Effect.flip(Backends.init({ name: "cpu", threads }))
        expect(e.problems?.[0]?.path).toBe("threads")
      }
    }))

  it.effect("auto picks wasm here (the highest available built-in)", () =>
    Effect.gen(function*() {
      const info = yield* Backends.init({ name: "auto" }, [fake("node", 20, false), fake("node-gpu", 30, false)])
      expect(info.name).toBe("wasm")
      expect(info.overrides).toBe(true)
      expect(info.threads).toBeGreaterThanOrEqual(1)
      expect(tf.getBackend()).toBe("wasm")
    }))

  it.effect("auto prefers an available plugin provider with higher priority, and skips one that fails", () =>
    Effect.gen(function*() {
      const picked = yield* Backends.init({ name: "auto" }, [fake("node", 20, true)])
      expect(picked.name).toBe("node")
      const next = yield* Backends.init({ name: "auto" }, [fake("node-gpu", 30, true, true), fake("node", 20, true)])
      expect(next.name).toBe("node")
    }))

  it.effect("is idempotent and can switch between cpu and wasm", () =>
    Effect.gen(function*() {
      const w1 = yield* Backends.init({ name: "wasm" })
      const w2 = yield* Backends.init({ name: "wasm" })
      expect(w2).toEqual(w1)
      const c = yield* Backends.init({ name: "cpu" })
      expect(c).toEqual({ name: "cpu", threads: 1, simd: false, overrides: false })
      expect(tf.getBackend()).toBe("cpu")
      const y = tf.tidy(() => Array.from(tf.matMul(tf.ones([2, 3]), tf.ones([3, 2])).dataSync()))
      expect(y).toEqual([3, 3, 3, 3])
      const w3 = yield* Backends.init({ name: "wasm" })
      expect(w3).toEqual(w1)
      expect(tf.getBackend()).toBe("wasm")
    }))

  it.effect("runs concurrent inits one at a time", () =>
    Effect.gen(function*() {
      const infos = yield* Effect.all([Backends.init({ name: "cpu" }), Backends.init({ name: "wasm" }), Backends.init({ name: "cpu" })], {
        concurrency: "unbounded"
      })
      expect(infos.map((i) => i.name)).toEqual(["cpu", "wasm", "cpu"])
    }))
})

describe("Engine", () => {
  it.effect("layerTest provides the cpu backend", () =>
    Effect.gen(function*() {
      const engine = yield* Engine
      expect(engine.info.name).toBe("cpu")
      expect(tf.getBackend()).toBe("cpu")
      expect(tf.getGradient("BatchMatMul")).toBeDefined()
    }).pipe(Effect.provide(Engine.layerTest)))

  it.effect("layer fails with the UserError of a bad request", () =>
    Effect.gen(function*() {
      const e = yield* Effect.flip(Effect.provide(Engine.use((engine) => Effect.succeed(engine.info)), Engine.layer({ name: "nope" })))
      expect(e.message).toContain("backend")
    }))
})
