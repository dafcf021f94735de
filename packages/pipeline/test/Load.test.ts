import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Result } from "effect"
import { fileURLToPath } from "node:url"
import * as Load from "../src/Load.ts"
import { testPlugin } from "./fixtures-plugin.ts"

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))
const load = (name: string) => Load.loadFile(fixture(name)).pipe(Effect.provide(NodeServices.layer))
const failure = (name: string) =>
  Effect.gen(function*() {
    const r = yield* Effect.result(load(name))
    if (Result.isSuccess(r)) throw new Error("expected a failure")
    expect(r.failure._tag).toBe("UserError")
    return r.failure.message
  })

describe("Load.loadFile", () => {
  it.effect("reads JSON and YAML pipelines", () =>
    Effect.gen(function*() {
      for (const [file, name] of [["ok.json", "from-json"], ["ok.yaml", "from-yaml"]] as const) {
        const l = yield* load(file)
        expect(l._tag).toBe("Pipeline")
        if (l._tag === "Pipeline") {
          expect(l.pipeline).toEqual({ name, train: { steps: 50 }, optimizer: { use: "t/sgd", lr: 0.2 } })
          expect(l.plugins).toEqual([])
        }
      }
    }))

  it.effect("imports a .ts pipeline and the plugins it brings", () =>
    Effect.gen(function*() {
      const l = yield* load("with-plugin.ts")
      expect(l._tag).toBe("Pipeline")
      expect(l.plugins).toEqual([testPlugin])
      if (l._tag === "Pipeline") expect(l.pipeline).toEqual({ name: "with-plugin", optimizer: { use: "t/sgd", lr: 0.3 }, train: { steps: 40 } })
    }))

  it.effect("imports a study", () =>
    Effect.gen(function*() {
      const l = yield* load("study.ts")
      expect(l._tag).toBe("Study")
      expect(l.plugins).toEqual([testPlugin])
      if (l._tag === "Study") expect("grid" in l.study && l.study.grid).toEqual({ "optimizer.lr": [0.1, 0.01] })
    }))

  it.effect("imports a study of arms with every arm's plugins, each once", () =>
    Effect.gen(function*() {
      const l = yield* load("arms-study.ts")
      expect(l._tag).toBe("Study")
      expect(l.plugins).toEqual([testPlugin])
      if (l._tag === "Study") expect("arms" in l.study && Object.keys(l.study.arms)).toEqual(["plain", "tested", "again"])
    }))

  it.effect("reports a YAML syntax error with line and column", () =>
    Effect.gen(function*() {
      const msg = yield* failure("broken.yaml")
      expect(msg).toMatch(/broken\.yaml:3:10: invalid YAML: Nested mappings are not allowed in compact mappings$/)
    }))

  it.effect("reports a JSON syntax error with line and column", () =>
    Effect.gen(function*() {
      const msg = yield* failure("broken.json")
      expect(msg).toMatch(/broken\.json:3:27: invalid JSON: Expected double-quoted property name$/)
    }))

  it.effect("reports a .ts pipeline that throws on import", () =>
    Effect.gen(function*() {
      expect(yield* failure("throws.ts")).toMatch(/throws\.ts: failed to load: boom while importing$/)
    }))

  it.effect("reports a module without a default export", () =>
    Effect.gen(function*() {
      expect(yield* failure("no-default.ts")).toContain("has no default export")
    }))

  it.effect("reports a missing file", () =>
    Effect.gen(function*() {
      expect(yield* failure("nope.ts")).toMatch(/nope\.ts: no such file$/)
    }))

  it.effect("reports an unsupported extension", () =>
    Effect.gen(function*() {
      expect(yield* failure("notes.txt")).toContain(`unsupported file type ".txt"`)
    }))
})

describe("Load.loadConfig", () => {
  it.effect("reads rekindle.config.ts from a folder, or nothing when absent", () =>
    Effect.gen(function*() {
      const config = yield* Load.loadConfig(fixture("config-dir")).pipe(Effect.provide(NodeServices.layer))
      expect(config.plugins).toEqual([testPlugin])
      const none = yield* Load.loadConfig(fixture("")).pipe(Effect.provide(NodeServices.layer))
      expect(none).toEqual({})
    }))
})
