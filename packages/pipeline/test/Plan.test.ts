import { describe, expect, it } from "vitest"
import { plugins } from "./fixtures-plugin.ts"
import * as Plan from "../src/Plan.ts"
import * as Registry from "../src/Registry.ts"
import * as Resolve from "../src/Resolve.ts"
import { testPlugin } from "./fixtures-plugin.ts"
import { valueOf } from "./helpers.ts"

const registry = valueOf(Registry.make(plugins))
const schedule = (input: unknown) => Plan.schedule(valueOf(Resolve.resolve(registry, input)))

describe("Plan.schedule", () => {
  it("lists firing steps, evaluations, checkpoints and neurons per event", () => {
    const p = schedule({
      name: "plan",
      optimizer: { use: "t/sgd" },
      model: { layers: 3, dFF: 100 },
      train: { steps: 250, evalEvery: 100, checkpointEvery: 120 },
      recycling: [
        { schedule: { every: 50, from: 60, times: 3 }, select: { use: "t/smallest", fraction: 0.125 }, reinit: { use: "t/initial" } },
        { schedule: { every: 100, until: 150 }, select: { use: "t/dormant", fraction: 0.01 }, reinit: { use: "t/initial" }, scope: "global" }
      ]
    })
    expect(p.evals).toEqual([100, 200, 250])
    expect(p.checkpoints).toEqual([120, 240, 250])
    expect(p.stages[0]).toMatchObject({ firing: [60, 110, 160], kPerLayer: 13, kTotal: 39, scope: "per-layer" })
    expect(p.stages[1]).toMatchObject({ firing: [100], kTotal: 3, scope: "global" })
  })

  it("has no checkpoints when checkpointEvery is 0 and evaluates at the end only when evalEvery is 0", () => {
    const p = schedule({ name: "x", optimizer: { use: "t/sgd" }, train: { steps: 30, evalEvery: 0 } })
    expect(p.evals).toEqual([30])
    expect(p.checkpoints).toEqual([])
  })
})
