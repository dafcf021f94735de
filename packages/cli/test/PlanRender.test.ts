/**
 * `rekindle plan`'s text for the experiment kinds beyond recycling: the real preset pipelines of
 * gradual pruning, retraining and the midpoint loss, resolved with the built-in registry.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { cli } from "./helpers.ts"

const preset = (name: string) => new URL(`../../../pipelines/${name}.ts`, import.meta.url).pathname

describe("plan: pruning, retraining, midpoint loss", () => {
  it.effect("shows when the pruning mask grows and to how many neurons", () =>
    Effect.gen(function*() {
      const r = yield* cli(["plan", preset("pruning-criteria")])
      expect(r.code).toBe(0)
      expect(r.out).toContain("pruning: select/magnitude-smallest, to 0.5 of every layer; the mask may grow before 26 step(s):")
      expect(r.out).toContain("    step 60: target 0.02 -> 10 pruned per layer")
      expect(r.out).toContain("    step 300: target 0.5 -> 256 pruned per layer")
    }))

  it.effect("shows the retraining window, its subset and what follows", () =>
    Effect.gen(function*() {
      const r = yield* cli(["plan", preset("retrain-subsets")])
      expect(r.code).toBe(0)
      expect(r.out).toContain(`retraining: steps 300-399 train only the "smallest" subset (51 neuron(s) per layer), lr 0.001, warm-up 10; then the run stops`)
    }))

  it.effect("shows the midpoint loss settings", () =>
    Effect.gen(function*() {
      const r = yield* cli(["plan", preset("midpoint-loss")])
      expect(r.code).toBe(0)
      expect(r.out).toContain("midpoint loss: coefficient 0.1, L2 distance to the mean")
    }))
})
