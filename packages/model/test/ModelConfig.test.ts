import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import { ModelConfig } from "../src/ModelConfig.ts"
import * as Transformer from "../src/Transformer.ts"
import { tiny } from "./fixtures.ts"

describe("ModelConfig", () => {
  it("decodes a valid config and rejects heads that do not divide dModel", () => {
    expect(Schema.decodeUnknownSync(ModelConfig)(tiny())).toEqual(tiny())
    expect(() => Schema.decodeUnknownSync(ModelConfig)(tiny({ heads: 3 }))).toThrow(/divisible by heads/)
    expect(() => Schema.decodeUnknownSync(ModelConfig)({ ...tiny(), dFF: -1 })).toThrow()
    expect(() => Transformer.make(tiny({ heads: 3 }))).toThrow(/divisible by heads/)
  })
})
