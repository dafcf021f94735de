import { describe, expect, it } from "vitest"
import { due, neverFiring, plan, check } from "../src/RecyclingSchedule.ts"
import { fires, firingSteps } from "../src/Stage.ts"

const s = (every: number, from: number, extra: { until?: number; times?: number } = {}) => ({ schedule: { every, from, ...extra } })

describe("recycling schedule", () => {
  it("fires at from, then every `every` steps", () => {
    expect(firingSteps({ every: 10, from: 5 }, 40)).toEqual([5, 15, 25, 35])
    expect(fires({ every: 10, from: 5 }, 4, 0)).toBe(false)
    expect(fires({ every: 10, from: 5 }, 14, 1)).toBe(false)
  })
  it("every = 1 fires at every step from `from`", () => {
    expect(firingSteps({ every: 1, from: 3 }, 7)).toEqual([3, 4, 5, 6])
  })
  it("until is inclusive", () => {
    expect(firingSteps({ every: 10, from: 0, until: 20 }, 100)).toEqual([0, 10, 20])
    expect(firingSteps({ every: 10, from: 0, until: 19 }, 100)).toEqual([0, 10])
  })
  it("times caps the number of firings", () => {
    expect(firingSteps({ every: 5, from: 5, times: 2 }, 100)).toEqual([5, 10])
    expect(fires({ every: 5, from: 5, times: 2 }, 15, 2)).toBe(false)
  })
  it("steps run 0..steps-1: a stage at step = steps never fires", () => {
    expect(firingSteps({ every: 10, from: 10 }, 10)).toEqual([])
    expect(firingSteps({ every: 10, from: 10 }, 11)).toEqual([10])
  })
  it("due lists the firing stages in index order, honouring fired counts", () => {
    const stages = [s(10, 0), s(5, 0, { times: 1 }), s(3, 1)]
    expect(due(stages, 0, [0, 0, 0])).toEqual([stages[0], stages[1]])
    expect(due(stages, 10, [1, 1, 3])).toEqual([stages[0], stages[2]])
    expect(due(stages, 10, [1, 0, 3])).toEqual([stages[0], stages[1], stages[2]])
    expect(due(stages, 11, [2, 1, 4])).toEqual([])
    expect(due(stages, 4, [0, 0, 1])).toEqual([stages[2]])
  })
  it("plans every stage and names the ones that can never fire", () => {
    const stages = [s(10, 0), s(10, 200), s(5, 50, { until: 40 })]
    expect(plan(stages, 30)).toEqual([{ stage: 0, steps: [0, 10, 20] }, { stage: 1, steps: [] }, { stage: 2, steps: [] }])
    const problems = neverFiring(stages, 30)
    expect(problems.map((p) => p.path)).toEqual(["recycling.1.schedule", "recycling.2.schedule"])
    expect(problems[0]!.message).toContain("its first step would be 200, but training runs steps 0..29")
    expect(problems[1]!.message).toContain("until (40) is before from (50)")
    const error = check(stages, 30)
    expect(error?._tag).toBe("UserError")
    expect(error?.message).toContain("recycling.1.schedule")
    expect(check([s(10, 0)], 30)).toBeUndefined()
  })
})
