/** Smooth reinit: α rises linearly 0 -> 1 over T steps, the function is unchanged at the reset, state is dropped at α = 1. */
import type { Event } from "@rekindle/core"
import { smooth } from "@rekindle/plugin-reinit"
import { random } from "@rekindle/plugin-select"
import "@tensorflow/tfjs-backend-cpu"
import * as tf from "@tensorflow/tfjs-core"
import { beforeAll, describe, expect, it } from "vitest"
import * as Recycler from "../src/Recycler.ts"
import { stage, world } from "./helpers.ts"

beforeAll(async () => {
  await tf.setBackend("cpu")
})

const T = 4

const setup = (config = {}) => {
  const w = world(config)
  const st = stage({
    schedule: { every: 2, from: 3, times: 2 },
    reinit: ["reinit/smooth", smooth({ steps: T })],
    criterion: ["select/random", random()]
  })
  const r = Recycler.make({ model: w.model, stages: [st], key: w.root, lineageEvents: false })
  return { w, r }
}

const chosenOf = (events: ReadonlyArray<Event.Event>, layer: number) =>
  events.flatMap((e) => (e._tag === "Recycle" && e.layer === layer ? e.indices : []))

describe("smooth reinit", () => {
  it("keeps the network's function at the reset and blends in the new neurons linearly over T steps", () => {
    for (const config of [{ ffBias: true }, { ffBias: false, activation: "gelu" as const }]) {
      const { w, r } = setup(config)
      const loss = (options = r.forwardOptions(3)) => tf.tidy(() => w.model.loss(w.params, w.probe, options).dataSync()[0]!)
      expect(r.forwardOptions(0)).toBeUndefined()
      const before = tf.tidy(() => w.model.loss(w.params, w.probe).dataSync()[0]!)
      const out = r.runDue(3, { params: w.params, opt: w.opt, optimizer: w.optimizer })
      w.setOpt(out.opt)
      const chosen = chosenOf(out.events, 0)
      expect(chosen).toHaveLength(3)
      // the weights did change, but with the blend the loss is what it was
      const unblended = tf.tidy(() => w.model.loss(w.params, w.probe).dataSync()[0]!)
      expect(unblended).not.toBeCloseTo(before, 4)
      expect(loss()).toBeCloseTo(before, 5)
      // α of the chosen neurons: 0, 1/T, ..., 1; every other neuron stays at 1
      for (let s = 3; s < 3 + T; s++) {
        const options = r.forwardOptions(s)!
        const alpha = Array.from(options.blend![0]!.alpha.dataSync())
        alpha.forEach((a, i) => expect(a).toBeCloseTo(chosen.includes(i) ? (s - 3) / T : 1, 6))
      }
      // at α = 1 the blend state is dropped
      expect(r.forwardOptions(3 + T)).toBeUndefined()
      expect(r.blendTensors()).toEqual({})
      r.dispose()
      w.dispose()
    }
  })

  it("makes blending neurons ineligible, merges a second reset into the kept weights, and frees every tensor", () => {
    const baseline = tf.memory().numTensors
    const { w, r } = setup()
    const first = r.runDue(3, { params: w.params, opt: w.opt, optimizer: w.optimizer })
    w.setOpt(first.opt)
    r.forwardOptions(3)
    r.forwardOptions(4)
    const loss5 = tf.tidy(() => w.model.loss(w.params, w.probe, r.forwardOptions(5)).dataSync()[0]!)
    const second = r.runDue(5, { params: w.params, opt: w.opt, optimizer: w.optimizer })
    w.setOpt(second.opt)
    const a = chosenOf(first.events, 0)
    const b = chosenOf(second.events, 0)
    expect(b.filter((i) => a.includes(i))).toEqual([]) // still blending at step 5: not chosen again
    // the second reset leaves the blended function unchanged too (α of the new ones is 0)
    expect(tf.tidy(() => w.model.loss(w.params, w.probe, r.forwardOptions(5)).dataSync()[0]!)).toBeCloseTo(loss5, 5)
    const alpha = Array.from(r.forwardOptions(6)!.blend![0]!.alpha.dataSync())
    alpha.forEach((x, i) => expect(x).toBeCloseTo(a.includes(i) ? 3 / T : b.includes(i) ? 1 / T : 1, 6))
    expect(Object.keys(r.blendTensors()).sort()).toEqual([
      "blend.0.oldBin", "blend.0.oldWin", "blend.0.oldWout", "blend.1.oldBin", "blend.1.oldWin", "blend.1.oldWout"
    ])
    expect(r.forwardOptions(7)).toBeDefined() // the first batch is done, the second still blends
    expect(r.forwardOptions(5 + T)).toBeUndefined()
    r.dispose()
    w.dispose()
    expect(tf.memory().numTensors).toBe(baseline)
  })

  it("snapshots blend progress with its tensors and restores it", () => {
    const { w, r } = setup()
    w.setOpt(r.runDue(3, { params: w.params, opt: w.opt, optimizer: w.optimizer }).opt)
    const snap = JSON.parse(JSON.stringify(r.snapshot()))
    const tensors = Object.fromEntries(Object.entries(r.blendTensors()).map(([n, t]) => [n, tf.clone(t)]))
    const { r: r2, w: w2 } = setup()
    r2.restore(snap, tensors)
    Object.values(tensors).forEach((t) => t.dispose())
    const a = r.forwardOptions(5)!.blend!
    const b = r2.forwardOptions(5)!.blend!
    a.forEach((x, p) => {
      expect(Array.from(b[p]!.alpha.dataSync())).toEqual(Array.from(x!.alpha.dataSync()))
      expect(b[p]!.oldWin.arraySync()).toEqual(x!.oldWin.arraySync())
    })
    r.dispose()
    r2.dispose()
    w.dispose()
    w2.dispose()
  })
})
