/** The invariants fail loudly, with a RunError naming what broke, on deliberately broken parts. */
import { type Criterion, type Reinitializer, RunError, Selection, Slices, Slots } from "@rekindle/core"
import { initial } from "@rekindle/plugin-reinit"
import { magnitudeSmallest } from "@rekindle/plugin-select"
import "@tensorflow/tfjs-backend-cpu"
import * as tf from "@tensorflow/tfjs-core"
import { beforeAll, describe, expect, it } from "vitest"
import * as Invariants from "../src/Invariants.ts"
import * as Recycler from "../src/Recycler.ts"
import { stage, world } from "./helpers.ts"

beforeAll(async () => {
  await tf.setBackend("cpu")
})

/** Runs one firing of a stage built from `fields`; returns the thrown error (or undefined). */
const fireWith = (fields: Parameters<typeof stage>[0]) => {
  const w = world()
  const r = Recycler.make({ model: w.model, stages: [stage(fields)], key: w.root })
  const before = w.read("layers.0.ff.win")
  try {
    const out = r.runDue(0, { params: w.params, opt: w.opt, optimizer: w.optimizer })
    w.setOpt(out.opt)
    return { error: undefined, unchanged: true }
  } catch (e) {
    return { error: e, unchanged: JSON.stringify(w.read("layers.0.ff.win")) === JSON.stringify(before) }
  } finally {
    r.dispose()
    w.dispose()
  }
}

const expectRunError = (e: unknown, pattern: RegExp) => {
  expect(e).toBeInstanceOf(RunError)
  expect((e as RunError).message).toMatch(pattern)
  expect((e as RunError).step).toBe(0)
}

/** `initial` plus a change to one unchosen neuron of layer 0. */
const leakyReinit: Reinitializer = {
  slicesOnly: true,
  apply: (ctx) => {
    const out = initial().apply(ctx)
    const chosen = ctx.selection.layers[0]!.indices
    const victim = [...Array(12).keys()].find((i) => !chosen.includes(i))!
    out["layers.0.ff.win"] = Slices.fillAlong(out["layers.0.ff.win"]!, 1, [victim], 42)
    return out
  }
}

describe("invariants", () => {
  it("catch a reinitializer that changes an unchosen neuron, before anything is assigned", () => {
    const { error, unchanged } = fireWith({ reinit: ["broken", leakyReinit] })
    expectRunError(error, /recycling stage 0 at step 0: reinit broken changed unchosen neurons \[\d+\] of "layers.0.ff.win"/)
    expect(unchanged).toBe(true)
  })
  it("catch a reinitializer that touches a parameter holding no neuron", () => {
    const bad: Reinitializer = { slicesOnly: true, apply: (ctx) => ({ ...initial().apply(ctx), "head.b": tf.zerosLike(ctx.params["head.b"]!) }) }
    expectRunError(fireWith({ reinit: ["broken", bad] }).error, /replaced "head.b", which holds no neuron slice/)
  })
  it("catch non-finite values and wrong shapes", () => {
    const nan: Reinitializer = { slicesOnly: true, apply: (ctx) => ({ "layers.0.ff.win": Slices.fillAlong(ctx.params["layers.0.ff.win"]!, 1, ctx.selection.layers[0]!.indices, Number.NaN) }) }
    expectRunError(fireWith({ reinit: ["nan", nan] }).error, /non-finite values into "layers.0.ff.win"/)
    const shape: Reinitializer = { slicesOnly: true, apply: () => ({ "layers.0.ff.win": tf.zeros([2, 2]) }) }
    expectRunError(fireWith({ reinit: ["shape", shape] }).error, /shape \[2,2\]/)
  })
  it("catch a criterion that chooses immune neurons or the wrong count", () => {
    const ignoresImmunity: Criterion<void> = {
      ...magnitudeSmallest(),
      select: (s, sig, req, k) => magnitudeSmallest().select(s, sig, { ...req, eligible: req.eligible.map((e) => e.map(() => 1)) }, k)
    }
    const w = world()
    const r = Recycler.make({
      model: w.model,
      stages: [stage({ schedule: { every: 1, from: 0 }, immunity: 5, criterion: ["sloppy", ignoresImmunity], fraction: 0.1 })],
      key: w.root
    })
    w.setOpt(r.runDue(0, { params: w.params, opt: w.opt, optimizer: w.optimizer }).opt)
    // make the just-recycled (immune) neurons the smallest again, so the sloppy criterion picks them
    const chosen = r.lineageView().resets.map((x) => Array.from(x).flatMap((c, i) => (c > 0 ? [i] : [])))
    for (const [p, idx] of chosen.entries()) {
      const name = `layers.${p}.ff.win`
      w.params[name]!.assign(tf.tidy(() => Slices.fillAlong(w.params[name]!, 1, idx, 0)))
    }
    let error: unknown
    try {
      r.runDue(1, { params: w.params, opt: w.opt, optimizer: w.optimizer })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(RunError)
    expect((error as RunError).message).toMatch(/neuron \d+ was chosen but is not eligible \(immune or blending\)/)
    r.dispose()
    w.dispose()

    const greedy: Criterion<void> = { ...magnitudeSmallest(), select: (s, sig, req, k) => magnitudeSmallest().select(s, sig, { ...req, k: req.k.map((x) => x + 1) }, k) }
    expectRunError(fireWith({ criterion: ["greedy", greedy] }).error, /a rank criterion chose 4 neurons, expected 3/)
  })
  it("checkSelection accepts what the built-ins produce", () => {
    const req: Selection.SelectRequest = { scope: "per-layer", fraction: 0.5, k: [2], total: 2, eligible: [Uint8Array.from([1, 1, 0, 1])] }
    const topo = { layers: [{ layer: 0, dModel: 2, dFF: 4, win: "w", wout: "o", slices: [] }] }
    const good = Selection.byRank([[3, 1, 0, 2]], req, "lowest")
    expect(() => Invariants.checkSelection({ step: 3, stage: 1 }, topo, req, "rank", good)).not.toThrow()
    const unsorted = { layers: [{ layer: 0, indices: [3, 1], scores: [2, 1] }] }
    expect(() => Invariants.checkSelection({ step: 3, stage: 1 }, topo, req, "rank", unsorted)).toThrow(/not sorted/)
  })
  it("checkSlots catches an optimizer state changed off the slices, or not reset on them", () => {
    const where = { step: 2, stage: 0 }
    const optimizer = { slots: { m: { role: "moment" as const, reset: 0 }, t: { role: "step" as const, reset: 1 } } }
    const before = { count: 4, slots: { m: { w: tf.tensor2d([[1, 2], [3, 4]]) }, t: { w: tf.tensor2d([[5, 5], [5, 5]]) } } }
    const slices = [{ param: "w", axis: 1 as const, indices: [0] }]
    const good = Slots.resetSlices(before, optimizer, slices, "zero-moments-and-step")
    expect(() => Invariants.checkSlots(where, optimizer, "zero-moments-and-step", slices, before, good)).not.toThrow()
    // zero-moments must leave the step slot alone
    expect(() => Invariants.checkSlots(where, optimizer, "zero-moments", slices, before, good)).toThrow(/slot "t" of "w" changed outside the reset slices/)
    const notReset = { count: 4, slots: { m: { w: tf.tensor2d([[1, 2], [3, 4]]) }, t: before.slots.t } }
    expect(() => Invariants.checkSlots(where, optimizer, "zero-moments", slices, before, notReset)).toThrow(/slot "m" of "w" is not 0/)
    const spilled = { count: 4, slots: { m: { w: tf.tensor2d([[0, 0], [0, 4]]) }, t: before.slots.t } }
    expect(() => Invariants.checkSlots(where, optimizer, "zero-moments", slices, before, spilled)).toThrow(/changed outside the reset slices at \[1\]/)
    expect(() => Invariants.checkSlots(where, optimizer, "keep", slices, before, { ...before, count: 5 })).toThrow(/count changed/)
  })
})
