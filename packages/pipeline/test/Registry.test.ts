import { Plugin, Schemas } from "@rekindle/core"
import { otherEffect } from "@rekindle/testing"
import { Effect, Schema } from "effect"
import { describe, expect, it } from "vitest"
import * as Registry from "../src/Registry.ts"
import { plugins } from "./fixtures-plugin.ts"
import { testPlugin } from "./fixtures-plugin.ts"
import { userErrorOf, valueOf } from "./helpers.ts"

const emptyOptions = Schema.Struct({})
const sink = Plugin.part<"sinks">()({
  description: "nothing",
  options: emptyOptions,
  make: () => Effect.succeed({ name: "x", required: false, write: () => Effect.void, flush: Effect.void })
})
const pluginWith = (meta: Partial<Plugin.PluginMeta>, parts: Plugin.Parts = { sinks: { s: sink } }) =>
  Plugin.make({ meta: { name: "@x/p", version: "1.0.0", namespace: "x", core: "^0.1.0", ...meta }, ...parts })

describe("Registry.make", () => {
  it("registers every part of every plugin under namespace/id", () => {
    const r = valueOf(Registry.make(plugins))
    expect(r.get("t/dormant")?.kind).toBe("criteria")
    expect(r.get("log/jsonl")?.kind).toBe("sinks")
    expect(r.ofKind("criteria").map((e) => e.id)).toEqual(["t/dormant", "t/smallest"])
    expect(r.get("t/dormant")?.optionNames).toEqual(["tau", "every"])
    expect(r.backendNames).toEqual(["auto", "wasm", "cpu", "fake"])
  })

  it("registers the same plugin value once", () => {
    const r = valueOf(Registry.make([testPlugin, testPlugin]))
    expect(r.plugins).toHaveLength(1)
  })

  it("rejects a namespace claimed by two plugins", () => {
    const e = userErrorOf(Registry.make([pluginWith({ name: "@a/one" }), pluginWith({ name: "@b/two" })]))
    expect(e.message).toContain(`duplicate namespace "x": claimed by @a/one and @b/two`)
  })

  it("rejects an id used by two parts of one plugin", () => {
    const p = pluginWith({}, {
      sinks: { s: sink },
      probes: { s: Plugin.part<"probes">()({ description: "p", options: emptyOptions, make: () => Effect.succeed({ every: 1, needs: { activations: false }, run: () => [] }) }) }
    })
    expect(userErrorOf(Registry.make([p])).message).toContain(`duplicate id "x/s"`)
  })

  it("rejects an unsupported core version, naming both versions", () => {
    const e = userErrorOf(Registry.make([pluginWith({ core: "^2.0.0" })]))
    expect(e.message).toContain(`@x/p@1.0.0 supports @rekindle/core ^2.0.0, but this is core ${Plugin.coreVersion}`)
    expect(userErrorOf(Registry.make([pluginWith({ core: "not a range" })])).message).toContain(`"core" must be a semver range`)
  })

  it("rejects options that are not an object schema or cannot become JSON Schema", () => {
    const notStruct = pluginWith({}, { sinks: { s: { ...sink, options: Schema.String } } })
    expect(userErrorOf(Registry.make([notStruct])).message).toContain("x/s: options must be a Schema.Struct")
    const notSchema = pluginWith({}, { sinks: { s: { ...sink, options: { tau: 1 } as never } } })
    expect(userErrorOf(Registry.make([notSchema])).message).toContain(`x/s: "options" is not a Schema`)
    const opaque = pluginWith({}, {
      sinks: { s: { ...sink, options: Schema.Struct({ f: Schema.declare((u): u is () => void => typeof u === "function") }) } }
    })
    expect(userErrorOf(Registry.make([opaque])).message).toContain(`x/s: options schema cannot be described as JSON Schema (option "f"`)
    const symbolKey = pluginWith({}, { sinks: { s: { ...sink, options: Schema.Struct({ [Symbol.for("k")]: Schema.String }) } } })
    expect(userErrorOf(Registry.make([symbolKey])).message).toContain("x/s: options schema cannot be described as JSON Schema")
  })

  it("reports every bad plugin at once", () => {
    const e = userErrorOf(Registry.make([pluginWith({ core: "^9.0.0" }), pluginWith({ name: "@y/q", namespace: "Bad NS" })]))
    expect(e.problems).toHaveLength(2)
  })

  it("suggests the closest ids for an unknown one, and names the kind of a misplaced one", () => {
    const r = valueOf(Registry.make(plugins))
    expect(r.lookup("criteria", "t/dormnt")).toBe(`unknown criterion "t/dormnt"; did you mean "t/dormant"?`)
    expect(r.lookup("optimizers", "t/initial")).toBe(`"t/initial" is a reinitializer, not an optimizer`)
    expect(r.lookup("probes", "zzz/qqq")).toBe(`unknown probe "zzz/qqq"; known: t/count`)
    expect(typeof r.lookup("criteria", "t/smallest")).toBe("object")
  })
})

describe("Registry.make refuses options the host cannot read", () => {
  const criterionWith = (options: Schema.Top) =>
    pluginWith({}, {
      criteria: {
        c: Plugin.part<"criteria">()({
          description: "x",
          options,
          make: () => Effect.die("not built")
        })
      }
    })

  it("a criterion option named like a stage field (fraction, scope, ...)", () => {
    for (const name of ["fraction", "scope", "immunity", "use"]) {
      const e = userErrorOf(Registry.make([criterionWith(Schema.Struct({ [name]: Schema.Number }))]))
      expect(e.problems?.[0]?.message).toContain(`x/c: option "${name}" is reserved: use, fraction, schedule, select, reinit, optimizerState, immunity, scope, shadow are written next to a criterion's options`)
    }
    // other kinds only reserve "use"; a criterion option like "every" is fine
    expect(Registry.reservedOptions("sinks")).toEqual(["use"])
    valueOf(Registry.make([criterionWith(Schema.Struct({ every: Schema.Number }))]))
  })

  it("an options schema built by a second copy of effect (real copy, hard-linked files)", async () => {
    const other = await otherEffect()
    try {
      const foreign = other.effect.Schema.Struct({ tau: other.effect.Schema.Number })
      expect(Schemas.fromOtherEffect(foreign)).toBe(true)
      expect(Schemas.fromOtherEffect(Schema.Struct({ tau: Schema.Number }))).toBe(false)
      const e = userErrorOf(Registry.make([criterionWith(foreign as unknown as Schema.Top)]))
      expect(e.problems?.[0]?.message).toContain(`x/c: its options schema was built by a second copy of "effect"`)
      expect(e.problems?.[0]?.message).toContain(`list "effect" under "peerDependencies"`)
    } finally {
      other.dispose()
    }
  })
})
