import { describe, expect, it } from "vitest"
import { Paired, Student, Verdict } from "../src/index.ts"
import { normals } from "./synthetic.ts"

describe("paired loss comparisons", () => {
  it("a clear difference is reproduced as an ordering and not as an equivalence", () => {
    const b = [4.9, 4.95, 4.88, 4.92, 4.91]
    const a = b.map((x, i) => x - 0.1 + 0.005 * normals(1, 5)[i]!)
    const d = Paired.pairedDifference(a, b)
    expect(d.hi).toBeLessThan(0)
    expect(Paired.lower("a < b", d).outcome).toBe("reproduced")
    expect(Paired.lower("b < a", Paired.pairedDifference(b, a)).outcome).toBe("contradicted")
    expect(Paired.equivalent("a = b", d, 0.01).outcome).toBe("contradicted")
  })

  it("a null difference is inconclusive as an ordering and reproduced as an equivalence", () => {
    const b = [4.9, 4.95, 4.88, 4.92, 4.91]
    const noise = normals(2, 5)
    const a = b.map((x, i) => x + 0.002 * noise[i]!)
    const d = Paired.pairedDifference(a, b)
    expect(d.lo).toBeLessThan(0.01)
    expect(Paired.lower("a < b", d).outcome).toBe("inconclusive")
    expect(Paired.equivalent("a = b", d, 0.01).outcome).toBe("reproduced")
  })

  it("fewer than three seeds is inconclusive whatever the numbers", () => {
    const d = Paired.pairedDifference([1, 1], [2, 2])
    expect(Paired.lower("a < b", d).outcome).toBe("inconclusive")
  })

  it("the t interval has the textbook width and covers the mean", () => {
    expect(Student.tQuantile975(2)).toBe(4.303)
    expect(Student.tQuantile975(1e9)).toBeCloseTo(1.96, 2)
    // between table rows: df 50 lies between 40 (2.021) and 60 (2.000), linear in 1/df
    expect(Student.tQuantile975(50)).toBeCloseTo(2.009, 2)
    const i = Student.meanInterval([1, 2, 3])
    // mean 2, sample sd 1, 3 values: 2 ± 4.303 / √3
    expect(i.mean).toBe(2)
    expect(i.hi - i.mean).toBeCloseTo(4.303 / Math.sqrt(3), 10)
    expect(i.mean - i.lo).toBeCloseTo(4.303 / Math.sqrt(3), 10)
  })

  it("with 3 seeds and no real difference, an ordering is claimed about 5% of the time (a [min, max] bootstrap would claim 25%)", () => {
    const trials = 4000
    const z = normals(11, 3 * trials)
    let claimed = 0
    for (let t = 0; t < trials; t++) {
      const d = Paired.pairedDifference(z.slice(3 * t, 3 * t + 3), [0, 0, 0])
      if (Paired.lower("a < b", d).outcome !== "inconclusive") claimed++
    }
    expect(claimed / trials).toBeGreaterThan(0.03)
    expect(claimed / trials).toBeLessThan(0.07)
  })

  it("a chain of orderings is reproduced only when every link is", () => {
    const yes = { outcome: "reproduced", rule: "", reason: "" } as const
    const no = { outcome: "inconclusive", rule: "", reason: "" } as const
    expect(Verdict.all("chain", [yes, yes]).outcome).toBe("reproduced")
    expect(Verdict.all("chain", [yes, no]).outcome).toBe("inconclusive")
    expect(Verdict.all("chain", [yes, { ...no, outcome: "contradicted" }]).outcome).toBe("contradicted")
  })
})
