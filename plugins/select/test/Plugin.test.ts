import { Plugin } from "@rekindle/core"
import { Effect, Result, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { select } from "../src/index.ts"

const decode = (schema: Schema.Top, input: unknown) =>
  Schema.decodeUnknownResult(schema as Schema.Codec<unknown, unknown>)(input, { errors: "all", onExcessProperty: "error" })

describe("plugin select", () => {
  it("has the declared meta and parts", () => {
    expect(select.meta).toEqual({ name: "@rekindle/plugin-select", version: "0.1.0", namespace: "select", core: "^0.1.0" })
    expect(Object.keys(select.criteria)).toEqual([
      "magnitude-smallest", "magnitude-largest", "random", "random-bernoulli", "dormant", "firing-rate", "utility", "taylor", "snip"
    ])
    expect(Plugin.coreVersion).toBe("0.1.0")
  })
  it("decodes bare refs with defaults", () => {
    const got = (id: keyof typeof select.criteria) => {
      const r = decode(select.criteria[id].options, {})
      return Result.isSuccess(r) ? r.success : r.failure.message
    }
    expect(got("magnitude-smallest")).toEqual({})
    expect(got("dormant")).toEqual({ tau: 0.1, cap: true })
    expect(got("firing-rate")).toEqual({ threshold: 0.01, cap: true })
    expect(got("utility")).toEqual({ decay: 0.99, every: 10 })
    expect(got("taylor")).toEqual({ every: 1, window: "mean", decay: 0.9 })
  })
  it("rejects bad options naming the field", () => {
    const bad = (id: keyof typeof select.criteria, input: unknown, field: string) => {
      const r = decode(select.criteria[id].options, input)
      expect(Result.isFailure(r)).toBe(true)
      expect(Result.isFailure(r) ? r.failure.message : "").toContain(`["${field}"]`)
    }
    bad("dormant", { tau: -1 }, "tau")
    bad("firing-rate", { threshold: 2 }, "threshold")
    bad("utility", { decay: 1 }, "decay")
    bad("utility", { every: 0 }, "every")
    bad("taylor", { window: "median" }, "window")
    bad("dormant", { cap: "yes" }, "cap")
  })
  it("every option has a description", () => {
    for (const part of Object.values(select.criteria)) {
      const doc = Schema.toJsonSchemaDocument(part.options).schema as { properties?: Record<string, { description?: string }> }
      for (const [key, prop] of Object.entries(doc.properties ?? {})) expect(prop.description, key).toBeTruthy()
      expect(part.description.length).toBeGreaterThan(10)
    }
  })
  it("make builds the criterion with its options", async () => {
    const part = select.criteria.utility
    const c = await Effect.runPromise(part.make(Schema.decodeUnknownSync(part.options)({ every: 3 }), { totalSteps: 10 }))
    expect(c.observeEvery).toBe(3)
    expect(c.count).toBe("rank")
  })
})
