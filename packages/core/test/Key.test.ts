import { describe, expect, it } from "vitest"
import * as Key from "../src/Key.ts"

describe("Key", () => {
  it("is deterministic and purpose-separated", () => {
    const root = Key.make(42)
    expect(Key.split(root, "init")).toEqual(Key.split(Key.make(42), "init"))
    expect(Key.split(root, "init").state).not.toBe(Key.split(root, "data").state)
    expect(Key.fold(root, 1).state).not.toBe(Key.fold(root, 2).state)
    expect(Key.split(root, "init").path).toBe("seed(42)/init")
  })
  it("draws reproducible uniforms in [0, 1)", () => {
    const a = Key.uniform(Key.make(7)), b = Key.uniform(Key.make(7))
    const xs = Array.from({ length: 1000 }, () => a())
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b()))
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0)
    expect(Math.max(...xs)).toBeLessThan(1)
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.05)
  })
  it("draws the same sequence in blocks of any size as one by one", () => {
    const one = Key.uniform(Key.make(9))
    const xs = Array.from({ length: 1000 }, () => one())
    const next = Key.uniformBlocks(Key.make(9))
    const got: Array<number> = []
    for (const n of [1, 255, 256, 257, 3, 228]) {
      const block = new Float64Array(n)
      next(block)
      got.push(...block)
    }
    expect(got).toEqual(xs)
  })
  it("permutes", () => {
    const p = Array.from(Key.permutation(Key.make(1), 100))
    expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i))
    expect(p).not.toEqual(Array.from({ length: 100 }, (_, i) => i))
  })
})
