import { Effect, Result, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { reinit } from "../src/index.ts"

const decode = (schema: Schema.Top, input: unknown) =>
  Schema.decodeUnknownResult(schema as Schema.Codec<unknown, unknown>)(input, { errors: "all", onExcessProperty: "error" })

describe("plugin reinit", () => {
  it("has the declared meta and parts", () => {
    expect(reinit.meta).toEqual({ name: "@rekindle/plugin-reinit", version: "0.1.0", namespace: "reinit", core: "^0.1.0" })
    expect(Object.keys(reinit.reinitializers)).toEqual(["initial", "current-distribution", "zero", "zero-outgoing", "copy", "smooth"])
  })
  it("decodes bare refs with defaults and rejects bad options by field", () => {
    const ok = (id: keyof typeof reinit.reinitializers) => {
      const r = decode(reinit.reinitializers[id].options, {})
      return Result.isSuccess(r) ? r.success : r.failure.message
    }
    expect(ok("initial")).toEqual({})
    expect(ok("copy")).toEqual({ noise: 0.05 })
    expect(ok("smooth")).toEqual({ steps: 100 })
    const bad = decode(reinit.reinitializers.smooth.options, { steps: 0.5 })
    expect(Result.isFailure(bad) ? bad.failure.message : "").toContain(`["steps"]`)
    const neg = decode(reinit.reinitializers.copy.options, { noise: -1 })
    expect(Result.isFailure(neg) ? neg.failure.message : "").toContain(`["noise"]`)
  })
  it("every option has a description; make builds the reinitializer", async () => {
    for (const part of Object.values(reinit.reinitializers)) {
      const doc = Schema.toJsonSchemaDocument(part.options).schema as { properties?: Record<string, { description?: string }> }
      for (const [key, prop] of Object.entries(doc.properties ?? {})) expect(prop.description, key).toBeTruthy()
    }
    const s = await Effect.runPromise(reinit.reinitializers.smooth.make({ steps: 7 }, { totalSteps: 10 }))
    expect(s.blend).toEqual({ steps: 7 })
  })
})
