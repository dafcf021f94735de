/**
 * The criterion suite itself: it passes on a correct criterion written here against the core
 * contract alone, and each check fails on a criterion broken in the way it guards against.
 */
import { type Criterion, Selection } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import { describe, expect, it } from "vitest"
import { otherEffect } from "../src/OtherEffect.ts"
import { criterionChecks, criterionConformance, makeCriterion } from "../src/CriterionSuite.ts"

/** Lowest magnitude, exactly k: correct. */
const good = (): Criterion<void> => ({
  needs: { activations: false },
  count: "rank",
  init: () => undefined,
  observe: (s) => s,
  select: (_s, signals, request) => Selection.byRank(signals.layers.map((l) => l.magnitude), request, "lowest")
})

const broken = (select: Criterion<void>["select"], count: Criterion["count"] = "rank"): (() => Criterion<void>) => () => ({
  ...good(),
  count,
  select
})

criterionConformance("a correct reference criterion", good)

describe("criterion suite catches", () => {
  it("unsorted indices", () => {
    const c = broken((s, sig, r, k) => {
      const x = good().select(s, sig, r, k)
      return { layers: x.layers.map((l) => ({ ...l, indices: [...l.indices].reverse(), scores: [...l.scores].reverse() })) }
    })
    expect(() => criterionChecks.wellFormed(c)).toThrow(/not sorted/)
  })
  it("immune neurons chosen", () => {
    const c = broken((s, sig, r, k) => good().select(s, sig, { ...r, eligible: r.eligible.map((e) => e.map(() => 1)) }, k))
    expect(() => criterionChecks.wellFormed(c)).toThrow(/not eligible/)
  })
  it("a rank criterion choosing one too many", () => {
    const c = broken((s, sig, r, k) => good().select(s, sig, { ...r, k: r.k.map((x) => x + 1), total: r.total + 1 }, k))
    expect(() => criterionChecks.count(c)).toThrow(/expected exactly/)
  })
  it("a capped threshold criterion exceeding k", () => {
    const c = broken((_s, sig, r) => Selection.where(sig.layers.map((l) => l.magnitude), r, () => true), "threshold")
    expect(() => criterionChecks.count(c)).toThrow(/capped threshold/)
    expect(() => criterionChecks.count(c, { capped: false })).not.toThrow()
  })
  it("a Bernoulli criterion ignoring p", () => {
    const c = broken((_s, sig, r) => Selection.where(sig.layers.map((l) => l.magnitude), r, (_, __, i) => i % 2 === 0), "bernoulli")
    expect(() => criterionChecks.count(c)).toThrow(/Bernoulli/)
  })
  it("hidden randomness (not from the key)", () => {
    const c = broken((_s, sig, r) => Selection.byRank(sig.layers.map((l) => l.magnitude.map(() => Math.random())), r, "lowest"))
    expect(() => criterionChecks.deterministic(c)).toThrow(/differ/)
  })
  it("mutated signals", () => {
    const c = broken((s, sig, r, k) => {
      sig.layers[0]!.magnitude[0] = -1
      return good().select(s, sig, r, k)
    })
    expect(() => criterionChecks.pure(c)).toThrow(/mutated the signals/)
  })
  it("leaked tensors", () => {
    const c = broken((s, sig, r, k) => {
      tf.scalar(1)
      return good().select(s, sig, r, k)
    })
    expect(() => criterionChecks.leaks(c)).toThrow(/leaked/)
  })
})

describe("the kit refuses what the host cannot use", () => {
  it("a NaN or infinite score of a chosen neuron", () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
      const withBadScore = broken((s, signals, request, key) => {
        const chosen = good().select(s, signals, request, key)
        return { layers: chosen.layers.map((l) => ({ ...l, scores: l.scores.map((x, j) => (j === 0 ? bad : x)) })) }
      })
      expect(() => criterionChecks.wellFormed(withBadScore)).toThrow(new RegExp(`score of neuron \\d+ is ${bad}; every score must be finite`))
    }
  })

  it("a part whose options schema comes from a second copy of effect (real copy, hard-linked files)", async () => {
    const other = await otherEffect()
    try {
      const { Effect, Schema } = other.effect
      const part = {
        description: "x",
        options: Schema.Struct({ tau: Schema.Number.pipe(Schema.withDecodingDefaultKey(Effect.succeed(1))) }),
        make: () => Effect.succeed(good())
      }
      expect(() => makeCriterion(part as never)).toThrow(/makeCriterion: its options schema was built by a second copy of "effect".*peerDependencies/)
    } finally {
      other.dispose()
    }
  })

})
