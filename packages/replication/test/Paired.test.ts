import { Key } from "@rekindle/core"
import { describe, expect, it } from "vitest"
import { Bootstrap, Paired, Verdict } from "../src/index.ts"
import { normals } from "./synthetic.ts"

const key = Key.make(7)

describe("paired loss comparisons", () => {
  it("a clear difference is reproduced as an ordering and not as an equivalence", () => {
    const b = [4.9, 4.95, 4.88, 4.92, 4.91]
    const a = b.map((x, i) => x - 0.1 + 0.005 * normals(1, 5)[i]!)
    const d = Paired.pairedDifference(a, b, key)
    expect(d.hi).toBeLessThan(0)
    expect(Paired.lower("a < b", d).outcome).toBe("reproduced")
    expect(Paired.lower("b < a", Paired.pairedDifference(b, a, key)).outcome).toBe("contradicted")
    expect(Paired.equivalent("a = b", d, 0.01).outcome).toBe("contradicted")
  })

  it("a null difference is inconclusive as an ordering and reproduced as an equivalence", () => {
    const b = [4.9, 4.95, 4.88, 4.92, 4.91]
    const noise = normals(2, 5)
    const a = b.map((x, i) => x + 0.002 * noise[i]!)
    const d = Paired.pairedDifference(a, b, key)
    expect(d.lo).toBeLessThan(0.01)
    expect(Paired.lower("a < b", d).outcome).toBe("inconclusive")
    expect(Paired.equivalent("a = b", d, 0.01).outcome).toBe("reproduced")
  })

  it("fewer than three seeds is inconclusive whatever the numbers", () => {
    const d = Paired.pairedDifference([1, 1], [2, 2], key)
    expect(Paired.lower("a < b", d).outcome).toBe("inconclusive")
  })

  it("the bootstrap is reproducible from its key and covers the mean", () => {
    const xs = normals(3, 20)
    const one = Bootstrap.bootstrapMean(xs, { key })
    expect(Bootstrap.bootstrapMean(xs, { key })).toEqual(one)
    expect(one.lo).toBeLessThan(one.mean)
    expect(one.hi).toBeGreaterThan(one.mean)
    // A standard-normal mean of 20 draws: the 95% interval is about ±0.44 wide around it.
    expect(one.hi - one.lo).toBeGreaterThan(0.5)
    expect(one.hi - one.lo).toBeLessThan(1.2)
  })

  it("a chain of orderings is reproduced only when every link is", () => {
    const yes = { outcome: "reproduced", rule: "", reason: "" } as const
    const no = { outcome: "inconclusive", rule: "", reason: "" } as const
    expect(Verdict.all("chain", [yes, yes]).outcome).toBe("reproduced")
    expect(Verdict.all("chain", [yes, no]).outcome).toBe("inconclusive")
    expect(Verdict.all("chain", [yes, { ...no, outcome: "contradicted" }]).outcome).toBe("contradicted")
  })
})
