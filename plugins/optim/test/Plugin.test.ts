import { Plugin } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import "@tensorflow/tfjs-backend-cpu"
import { Effect, Result, Schema } from "effect"
import { beforeAll, describe, expect, it } from "vitest"
import { optim } from "../src/index.ts"

beforeAll(async () => {
  await tf.setBackend("cpu")
})

const decode = (schema: Schema.Top, input: unknown) => Schema.decodeUnknownResult(schema as Schema.Codec<unknown, unknown>)(input, { errors: "all" })

describe("plugin optim", () => {
  it("has the declared meta and parts", () => {
    expect(optim.meta.namespace).toBe("optim")
    expect(Object.keys(optim.optimizers)).toEqual(["sgd", "adam", "adamw"])
    expect(Plugin.coreVersion).toBe("0.1.0")
  })
  it("decodes { lr } alone with sensible defaults", () => {
    const r = decode(optim.optimizers.adamw.options, { lr: 1e-3 })
    expect(Result.isSuccess(r) && r.success).toEqual({
      lr: 1e-3,
      schedule: { kind: "constant" },
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: 0.01,
      decayMask: "matrices"
    })
    const s = decode(optim.optimizers.sgd.options, {})
    expect(Result.isSuccess(s) && s.success).toEqual({ lr: 0.01, schedule: { kind: "constant" }, momentum: 0, nesterov: false })
    const w = decode(optim.optimizers.adam.options, { schedule: { kind: "warmup-cosine", warmupSteps: 10 } })
    expect(Result.isSuccess(w) && w.success).toMatchObject({ schedule: { kind: "warmup-cosine", warmupSteps: 10, minLrFraction: 0 } })
  })
  it("reports bad options with their field paths", () => {
    const bad = decode(optim.optimizers.adamw.options, {
      lr: -1, betas: [0.9, 1], weightDecay: -0.1, schedule: { kind: "warmup-cosine" }
    })
    expect(Result.isFailure(bad)).toBe(true)
    const msg = Result.isFailure(bad) ? bad.failure.message : ""
    for (const field of ["lr", "betas", "weightDecay", "schedule"]) expect(msg).toContain(`["${field}"]`)
    const m = decode(optim.optimizers.sgd.options, { momentum: 1 })
    expect(Result.isFailure(m)).toBe(true)
    const k = decode(optim.optimizers.sgd.options, { schedule: { kind: "exponential" } })
    expect(Result.isFailure(k)).toBe(true)
  })
  it("every option has a description", () => {
    for (const part of Object.values(optim.optimizers)) {
      const doc = Schema.toJsonSchemaDocument(part.options).schema as { properties: Record<string, { description?: string }> }
      for (const [key, prop] of Object.entries(doc.properties)) expect(prop.description, key).toBeTruthy()
    }
  })
  it("make builds the optimizer with the run's length for decaying schedules", async () => {
    const part = optim.optimizers.adamw
    const options = Schema.decodeUnknownSync(part.options)({ lr: 0.1, schedule: { kind: "cosine" } })
    const opt = await Effect.runPromise(part.make(options, { totalSteps: 100 }))
    expect(opt.learningRate(0)).toBe(0.1)
    expect(opt.learningRate(50)).toBeCloseTo(0.05, 12)
    expect(opt.learningRate(100)).toBeCloseTo(0, 12)
    expect(opt.name).toContain("adamw")
    expect(opt.slots).toEqual({
      "adam.mu": { role: "moment", reset: 0 },
      "adam.nu": { role: "moment", reset: 0 },
      "adam.bc1": { role: "step", reset: 0 },
      "adam.bc2": { role: "step", reset: 0 }
    })
    const sgd = await Effect.runPromise(
      optim.optimizers.sgd.make(Schema.decodeUnknownSync(optim.optimizers.sgd.options)({ momentum: 0.9 }), { totalSteps: 10 })
    )
    expect(sgd.slots).toEqual({ "momentum.trace": { role: "moment", reset: 0 } })
  })
})
