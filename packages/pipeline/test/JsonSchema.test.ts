import { describe, expect, it } from "vitest"
import { plugins } from "./fixtures-plugin.ts"
import * as JsonSchema from "../src/JsonSchema.ts"
import * as Registry from "../src/Registry.ts"
import { testPlugin } from "./fixtures-plugin.ts"
import { valueOf } from "./helpers.ts"

describe("JsonSchema.document", () => {
  const doc = JsonSchema.document(valueOf(Registry.make(plugins))) as any

  it("is a standalone draft 2020-12 schema that rejects unknown keys", () => {
    expect(doc.$schema).toBe("https://json-schema.org/draft/2020-12/schema")
    expect(doc.type).toBe("object")
    expect(doc.additionalProperties).toBe(false)
    expect(doc.required).toEqual(["name"])
  })

  it("describes every registered part's options under its use id", () => {
    const opts = doc.properties.optimizer.anyOf
    expect(opts.map((m: any) => m.properties.use.enum[0])).toEqual(["optim/sgd", "optim/adam", "optim/adamw", "t/sgd"])
    expect(Object.keys(opts[3].properties)).toEqual(["use", "lr"])
    expect(Object.keys(opts[2].properties)).toContain("weightDecay")
    const select = doc.properties.recycling.items.properties.select
    const members = select.anyOf.map((m: any) => [m.properties.use.enum[0], Object.keys(m.properties)])
    expect(members).toEqual([["t/dormant", ["use", "fraction", "tau", "every"]], ["t/smallest", ["use", "fraction"]]])
    const log = doc.properties.log.items.anyOf.map((m: any) => m.properties.use.enum[0])
    expect(log).toEqual(["log/console", "log/jsonl", "log/tensorboard", "log/report"])
  })

  it("lists the backend names", () => {
    expect(doc.properties.backend.anyOf[0].enum).toEqual(["auto", "wasm", "cpu", "fake"])
  })
})
