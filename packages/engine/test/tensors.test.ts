/**
 * Tensor lifetime helpers: tidy scopes, scoped variables, leak checks.
 */
import { describe, expect, it } from "@effect/vitest"
import * as tf from "@tensorflow/tfjs-core"
import { Effect, Exit } from "effect"
import * as Backends from "../src/Backends.ts"
import * as Tensors from "../src/Tensors.ts"

const cpu = Backends.init({ name: "cpu" })

describe("Tensors", () => {
  it.effect("scoped disposes temporaries and keeps the result", () =>
    Effect.gen(function*() {
      yield* cpu
      const before = tf.memory().numTensors
      const y = yield* Tensors.scoped(() => tf.add(tf.mul(tf.ones([3]), 2), 1))
      expect(tf.memory().numTensors).toBe(before + 1)
      expect(Array.from(y.dataSync())).toEqual([3, 3, 3])
      y.dispose()
      expect(tf.memory().numTensors).toBe(before)
    }))

  it.effect("acquireVariables disposes the variables when the scope closes", () =>
    Effect.gen(function*() {
      yield* cpu
      const before = tf.memory().numTensors
      const w = tf.ones([2, 2])
      const sum = yield* Effect.scoped(
        Effect.gen(function*() {
          const vars = yield* Tensors.acquireVariables({ w, b: tf.zeros([2]) }, { trainable: false })
          expect(vars.w.trainable).toBe(false)
          expect(tf.memory().numTensors).toBe(before + 4)
          return tf.tidy(() => tf.sum(vars.w).arraySync())
        })
      )
      expect(sum).toBe(4)
      // the caller still owns the initial tensors it passed
      expect(tf.memory().numTensors).toBe(before + 2)
      expect(w.isDisposed).toBe(false)
    }))

  it.effect("acquireVariables with a thunk frees the initial values and temporaries", () =>
    Effect.gen(function*() {
      yield* cpu
      const before = tf.memory().numTensors
      yield* Effect.scoped(
        Effect.gen(function*() {
          const vars = yield* Tensors.acquireVariables(() => ({ w: tf.mul(tf.ones([4]), 3) }), { namePrefix: "test/" })
          expect(vars.w.name).toBe("test/w")
          expect(tf.memory().numTensors).toBe(before + 1)
          const next = tf.add(vars.w, 1)
          vars.w.assign(next)
          next.dispose()
          expect(Array.from(vars.w.dataSync())).toEqual([4, 4, 4, 4])
        })
      )
      expect(tf.memory().numTensors).toBe(before)
    }))

  it.effect("leakCheck fails with TensorLeak when tensors survive, and passes otherwise", () =>
    Effect.gen(function*() {
      yield* cpu
      let leaked: tf.Tensor | undefined
      const exit = yield* Effect.exit(Tensors.leakCheck(Effect.sync(() => {
        leaked = tf.ones([1])
      })))
      expect(Exit.isFailure(exit)).toBe(true)
      const e = yield* Effect.flip(Tensors.leakCheck(Effect.sync(() => tf.zeros([2]))))
      expect(e._tag).toBe("TensorLeak")
      expect(e.after - e.before).toBe(1)
      leaked?.dispose()
      const ok = yield* Tensors.leakCheck(Tensors.scoped(() => tf.sum(tf.ones([5])).dataSync()[0]!))
      expect(ok).toBe(5)
    }))

  it("expectNoTensorLeak throws on a leak and returns the value otherwise", async () => {
    await Effect.runPromise(cpu)
    expect(Tensors.expectNoTensorLeak(() => tf.tidy(() => tf.sum(tf.ones([3])).arraySync()))).toBe(3)
    let t: tf.Tensor | undefined
    expect(() => Tensors.expectNoTensorLeak(() => {
      t = tf.ones([3])
    })).toThrow(/tensor leak: 1/)
    t?.dispose()
  })
})
