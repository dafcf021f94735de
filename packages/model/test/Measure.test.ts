/**
 * `Measure.magnitudesAt` gives, bit for bit, the entries of `Measure.magnitudes` at the requested
 * neurons (the recycler computes only the recycled neurons' magnitudes after an event and keeps
 * the rest from before), on cpu and on wasm with the engine's kernel overrides (SIMD column sums).
 */
import { Key } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import { Effect } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import * as Measure from "../src/Measure.ts"
import * as Transformer from "../src/Transformer.ts"
import { tiny } from "./fixtures.ts"

type Init = (request: { name: string; threads: number }) => Effect.Effect<unknown, unknown>
const engine = (await import("@rekindle/engine").catch(() => undefined)) as { Backends?: { init?: Init } } | undefined
const select = (name: string) => Effect.runPromise(engine!.Backends!.init!({ name, threads: 1 }))

const configs = {
  "relu, odd sizes": tiny({ dModel: 19, heads: 1, dFF: 37, layers: 3 }),
  "swiglu with biases": tiny({ activation: "swiglu", ffBias: true, dModel: 13, heads: 1, dFF: 23 }),
  "reference-like width": tiny({ dModel: 256, dFF: 1024, layers: 1 })
}

const bits = (xs: Float32Array) => Array.from(new Uint32Array(xs.slice().buffer))

describe.each(["cpu", "wasm"])("Measure.magnitudesAt (%s)", (backend) => {
  afterAll(() => select("wasm"))

  it.each(Object.entries(configs))("%s: the full computation's bits at the chosen neurons", async (_name, c) => {
    await select(backend)
    const model = Transformer.make(c)
    const params = model.init(Key.make(3))
    const u = Key.uniform(Key.make(4))
    // per layer: a random ~1/4 of the neurons (sorted), the last layer none
    const indices = model.topology.layers.map((l, p) =>
      p === model.topology.layers.length - 1 && p > 0 ? [] : Array.from({ length: l.dFF }, (_, i) => i).filter(() => u() < 0.25)
    )
    const before = tf.memory().numTensors
    const full = Measure.magnitudes(model.topology, params)
    const at = Measure.magnitudesAt(model.topology, params, indices)
    expect(tf.memory().numTensors).toBe(before)
    expect(at.map((xs) => xs.length)).toEqual(indices.map((xs) => xs.length))
    expect(indices.flat().length).toBeGreaterThan(0)
    at.forEach((xs, p) => expect(bits(xs)).toEqual(bits(Float32Array.from(indices[p]!, (i) => full[p]![i]!))))
    tf.dispose(Object.values(params))
  })
})
