import { Plugin } from "@rekindle/core"
import { describe, expect, it } from "vitest"
import { builtins } from "../src/index.ts"

describe("the built-in registry", () => {
  it("holds every plugins/* family once, each under its own namespace", () => {
    const namespaces = builtins.map((p) => p.meta.namespace)
    expect(namespaces).toEqual(["optim", "select", "reinit", "probe", "log", "backend"])
    expect(new Set(namespaces).size).toBe(namespaces.length)
  })

  it("has only known part kinds, each part with a description, an options schema and a make", () => {
    for (const plugin of builtins) {
      const { meta, ...parts } = plugin
      expect(meta.name).toMatch(/^@rekindle\/plugin-/)
      for (const [kind, byId] of Object.entries(parts)) {
        expect(Plugin.partKinds).toContain(kind)
        for (const [id, part] of Object.entries(byId as Record<string, Plugin.Part<Plugin.PartKind>>)) {
          expect(part.description, `${meta.namespace}/${id}`).not.toBe("")
          expect(typeof part.make).toBe("function")
          expect(part.options).toBeDefined()
        }
      }
    }
  })
})
