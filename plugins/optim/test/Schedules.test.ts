import { describe, expect, it } from "vitest"
import { Schedules, scheduleFromSpec } from "../src/index.ts"

describe("schedules at their edges", () => {
  it("constant", () => {
    expect([0, 1, 1e6].map(Schedules.constant(0.3))).toEqual([0.3, 0.3, 0.3])
  })
  it("warmup: first step already moves, peak at warmupSteps - 1, constant after", () => {
    const s = Schedules.warmup(1, 4)
    expect([0, 1, 2, 3, 4, 100].map(s)).toEqual([0.25, 0.5, 0.75, 1, 1, 1])
    expect(Schedules.warmup(2, 0)(0)).toBe(2)
  })
  it("cosine: peak after warm-up, half way at the middle, floor at the end and after", () => {
    const s = Schedules.cosineDecay({ lr: 1, steps: 110, warmupSteps: 10, minLrFraction: 0.1 })
    expect(s(0)).toBeCloseTo(0.1, 12)
    expect(s(9)).toBe(1)
    expect(s(10)).toBe(1)
    expect(s(60)).toBeCloseTo(0.1 + 0.9 * 0.5, 12)
    expect(s(110)).toBeCloseTo(0.1, 12)
    expect(s(500)).toBeCloseTo(0.1, 12)
    for (let t = 10; t < 110; t++) expect(s(t + 1)).toBeLessThanOrEqual(s(t))
  })
  it("linear: straight line from lr to the floor", () => {
    const s = Schedules.linearDecay({ lr: 2, steps: 100 })
    expect([0, 25, 50, 100, 101].map(s)).toEqual([2, 1.5, 1, 0, 0])
  })
  it("warm-up longer than the schedule never divides by zero", () => {
    const s = Schedules.cosineDecay({ lr: 1, steps: 5, warmupSteps: 10 })
    expect(s(4)).toBe(0.5)
    expect(s(10)).toBe(0)
  })
  it("specs default their length to the run's total steps", () => {
    const s = scheduleFromSpec({ kind: "warmup-cosine", warmupSteps: 2 }, 1, 12)
    expect(s(1)).toBe(1)
    expect(s(7)).toBeCloseTo(0.5, 12)
    expect(s(12)).toBeCloseTo(0, 12)
    expect(scheduleFromSpec({ kind: "linear", steps: 4 }, 1, 1000)(2)).toBe(0.5)
    expect(() => scheduleFromSpec({ kind: "cosine" }, 1)).toThrow(/no length/)
  })
})
