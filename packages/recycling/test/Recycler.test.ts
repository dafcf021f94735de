/** The Recycler end to end on a tiny model: events, keys, shadows, immunity, cadence, snapshots, leaks. */
import { type Criterion, Event, Key, RunError, Selection } from "@rekindle/core"
import { copy, initial } from "@rekindle/plugin-reinit"
import { dormant, magnitudeLargest, magnitudeSmallest, random, utility } from "@rekindle/plugin-select"
import "@tensorflow/tfjs-backend-cpu"
import { Measure } from "@rekindle/model"
import * as tf from "@tensorflow/tfjs-core"
import { beforeAll, describe, expect, it } from "vitest"
import * as Recycler from "../src/Recycler.ts"
import type { Stage } from "../src/Stage.ts"
import { snapshotParams, stage, world } from "./helpers.ts"

beforeAll(async () => {
  await tf.setBackend("cpu")
})

const recycles = (events: ReadonlyArray<Event.Event>) => events.filter((e): e is Event.EventOf<"Recycle"> => e._tag === "Recycle")

/** Runs `steps` steps of recycling only (no training), returning every event. */
const drive = (w: ReturnType<typeof world>, r: Recycler.Recycler, steps: number, from = 0) => {
  const events: Array<Event.Event> = []
  for (let s = from; s < steps; s++) {
    r.observe(s, w.params, w.probe)
    const out = r.runDue(s, { params: w.params, opt: w.opt, optimizer: w.optimizer, probe: w.probe })
    w.setOpt(out.opt)
    events.push(...out.events)
    r.forwardOptions(s)
  }
  return events
}

describe("Recycler", () => {
  it("emits one Recycle event per layer and firing with the documented fields", () => {
    const w = world()
    const st = stage({ schedule: { every: 5, from: 0 }, fraction: 0.25 })
    const r = Recycler.make({ model: w.model, stages: [st], key: w.root })
    const before = w.model.magnitudes(w.params).map((m) => m.magnitude.arraySync())
    const events = drive(w, r, 1)
    const rec = recycles(events)
    expect(rec).toHaveLength(2)
    for (const e of rec) {
      expect(Event.Recycle.make(e)).toEqual(e) // schema-valid
      expect(e.step).toBe(0)
      expect(e.stage).toBe(0)
      expect(e.criterion).toBe("select/magnitude-smallest")
      expect(e.reinit).toBe("reinit/initial")
      expect(e.k).toBe(3) // round(0.25 · 12)
      expect(e.indices).toHaveLength(3)
      expect(e.optimizerState).toBe("zero-moments")
      expect(e.key).toBe("seed(1)/reinit/0/0")
      // the chosen are the 3 smallest magnitudes, and the scores are those magnitudes
      const m = before[e.layer]!
      const smallest = [...m.keys()].sort((a, b) => m[a]! - m[b]! || a - b).slice(0, 3).sort((a, b) => a - b)
      expect(e.indices).toEqual(smallest)
      e.scores.forEach((sc, j) => expect(sc).toBeCloseTo(m[e.indices[j]!]!, 5))
      expect(e.magnitudeBefore).toBeCloseTo(e.scores.reduce((a, b) => a + b, 0) / 3, 5)
      expect(e.magnitudeAfter).not.toBeCloseTo(e.magnitudeBefore, 3)
    }
    const lineage = events.filter((e) => e._tag === "Lineage")
    expect(lineage).toHaveLength(2)
    expect(r.fired()).toEqual([1])
    expect(Array.from(r.lineageView().resets[0]!).filter((x) => x === 1)).toHaveLength(3)
    r.dispose()
    w.dispose()
  })

  it("measures magnitudes after the event bit for bit as a full measure does (chosen neurons anew, the rest kept)", () => {
    const w = world({ dFF: 37, dModel: 12 })
    const r = Recycler.make({ model: w.model, stages: [stage({ schedule: { every: 1, from: 0 }, fraction: 0.2 })], key: w.root })
    for (let s = 0; s < 3; s++) {
      const events = drive(w, r, s + 1, s)
      const full = Measure.magnitudes(w.model.topology, w.params)
      const lineage = events.filter((e): e is Event.EventOf<"Lineage"> => e._tag === "Lineage")
      expect(lineage).toHaveLength(2)
      for (const e of lineage) expect(e.magnitude).toEqual(Array.from(full[e.layer]!))
      for (const e of recycles(events)) {
        expect(e.indices.length).toBeGreaterThan(0)
        const m = full[e.layer]!
        expect(e.magnitudeAfter).toBe(e.indices.reduce((a, i) => a + m[i]!, 0) / e.indices.length)
      }
    }
    r.dispose()
    w.dispose()
  })

  it("fires on schedule only and counts firings", () => {
    const w = world()
    const r = Recycler.make({ model: w.model, stages: [stage({ schedule: { every: 3, from: 2, times: 2 } })], key: w.root })
    const steps = recycles(drive(w, r, 20)).map((e) => e.step)
    expect([...new Set(steps)]).toEqual([2, 5])
    expect(r.fired()).toEqual([2])
    r.dispose()
    w.dispose()
  })

  it("is deterministic for the seed and different for another seed", () => {
    const run = (seed: number) => {
      const w = world({}, undefined, 1)
      const r = Recycler.make({
        model: w.model,
        stages: [stage({ criterion: ["select/random", random()], reinit: ["reinit/copy", copy({ noise: 0.05 })] })],
        key: Key.make(seed)
      })
      const ev = recycles(drive(w, r, 21)).map((e) => [e.step, e.layer, e.indices])
      const params = snapshotParams(w.params)
      r.dispose()
      w.dispose()
      return { ev, params }
    }
    const a = run(7)
    expect(run(7)).toEqual(a)
    expect(run(8).ev).not.toEqual(a.ev)
  })

  it("shadow criteria are recorded with Jaccard overlaps and never change the trajectory", () => {
    const run = (shadow: boolean) => {
      const w = world()
      const st = stage({
        criterion: ["select/random", random()],
        shadow: shadow
          ? [["select/random", random()], ["select/magnitude-largest", magnitudeLargest()], ["same", random()]]
          : []
      })
      const r = Recycler.make({ model: w.model, stages: [st], key: w.root })
      const ev = recycles(drive(w, r, 11))
      const params = snapshotParams(w.params)
      r.dispose()
      w.dispose()
      return { ev, params }
    }
    const plain = run(false)
    const shadowed = run(true)
    expect(shadowed.params).toEqual(plain.params)
    expect(shadowed.ev.map((e) => e.indices)).toEqual(plain.ev.map((e) => e.indices))
    for (const e of shadowed.ev) {
      expect(e.shadow.map((s) => s.criterion)).toEqual(["select/random", "select/magnitude-largest", "same"])
      for (const s of e.shadow) {
        expect(s.chosen).toBe(3)
        expect(s.jaccard).toBeGreaterThanOrEqual(0)
        expect(s.jaccard).toBeLessThanOrEqual(1)
      }
      // shadows draw from their own keys: a random shadow rarely matches the acting random choice exactly
    }
    expect(shadowed.ev.some((e) => e.shadow[0]!.jaccard < 1)).toBe(true)
  })

  it("Jaccard of shadows: 1 for the same criterion on the same inputs, 0 for disjoint choices", () => {
    const w = world()
    const st = stage({
      fraction: 0.25,
      shadow: [["select/magnitude-smallest", magnitudeSmallest()], ["select/magnitude-largest", magnitudeLargest()]]
    })
    const r = Recycler.make({ model: w.model, stages: [st], key: w.root })
    for (const e of recycles(drive(w, r, 1))) {
      expect(e.shadow[0]).toEqual({ criterion: "select/magnitude-smallest", chosen: 3, jaccard: 1 })
      expect(e.shadow[1]).toEqual({ criterion: "select/magnitude-largest", chosen: 3, jaccard: 0 })
    }
    expect(Selection.jaccard({ layers: [] }, { layers: [] })).toBe(1)
    r.dispose()
    w.dispose()
  })

  it("immune neurons are never chosen again within K rounds", () => {
    const w = world()
    // fraction 0.25 of 12 = 3 per round, immunity 3: four consecutive rounds choose 12 distinct neurons
    const st = stage({ schedule: { every: 1, from: 0 }, immunity: 3, criterion: ["select/random", random()] })
    const r = Recycler.make({ model: w.model, stages: [st], key: w.root, lineageEvents: false })
    const ev = recycles(drive(w, r, 4))
    for (const layer of [0, 1]) {
      const all = ev.filter((e) => e.layer === layer).flatMap((e) => e.indices)
      expect(all).toHaveLength(12)
      expect(new Set(all).size).toBe(12)
    }
    r.dispose()
    w.dispose()
  })

  it("global scope chooses round(fraction · Σ dFF) over all layers", () => {
    const w = world()
    const r = Recycler.make({ model: w.model, stages: [stage({ scope: "global", fraction: 0.2 })], key: w.root })
    const ev = recycles(drive(w, r, 1))
    expect(ev.reduce((n, e) => n + e.indices.length, 0)).toBe(5) // round(0.2 · 24)
    expect(ev.every((e) => e.k === 5)).toBe(true)
    r.dispose()
    w.dispose()
  })

  it("measures activations on the probe for activation criteria, and fails clearly without one", () => {
    const w = world()
    const st = stage({ criterion: ["select/dormant", dormant({ tau: 10, cap: true })] })
    const r = Recycler.make({ model: w.model, stages: [st], key: w.root })
    expect(r.needsProbe).toBe(true)
    expect(() => r.runDue(0, { params: w.params, opt: w.opt, optimizer: w.optimizer })).toThrow(/needs activation statistics/)
    const out = r.runDue(0, { params: w.params, opt: w.opt, optimizer: w.optimizer, probe: w.probe })
    w.setOpt(out.opt)
    expect(recycles(out.events).every((e) => e.indices.length === 3)).toBe(true)
    r.dispose()
    w.dispose()
  })

  it("observes utility at its cadence only, and forgets recycled neurons", () => {
    const w = world()
    const st = stage({ schedule: { every: 6, from: 6 }, criterion: ["select/utility", utility({ decay: 0.9, every: 4 })] })
    const r = Recycler.make({ model: w.model, stages: [st], key: w.root })
    drive(w, r, 6) // observations at 0 and 4
    const state = () => (r.snapshot().criteria as Array<{ age: Array<{ data: Array<number> }> }>)[0]!
    expect(state().age[0]!.data.every((a) => a === 2)).toBe(true)
    const out = r.runDue(6, { params: w.params, opt: w.opt, optimizer: w.optimizer, probe: w.probe })
    w.setOpt(out.opt)
    const chosen = recycles(out.events).find((e) => e.layer === 0)!.indices
    const ages = state().age[0]!.data
    ages.forEach((a, i) => expect(a).toBe(chosen.includes(i) ? 0 : 2))
    r.dispose()
    w.dispose()
  })

  it("a snapshot restored into a fresh recycler continues exactly like the original", () => {
    const stages = (): Array<Stage> => [
      stage({ schedule: { every: 3, from: 0 }, immunity: 2, criterion: ["select/utility", utility({ decay: 0.9, every: 2 })] }),
      stage({ index: 1, schedule: { every: 4, from: 1 }, criterion: ["select/random", random()], reinit: ["reinit/initial", initial()] })
    ]
    const a = world()
    const ra = Recycler.make({ model: a.model, stages: stages(), key: a.root })
    drive(a, ra, 7)
    const snap = JSON.parse(JSON.stringify(ra.snapshot())) as Recycler.RecyclerSnapshot
    const b = world()
    for (const [n, v] of Object.entries(a.params)) b.params[n]!.assign(v)
    b.setOpt({ count: a.opt.count, slots: Object.fromEntries(Object.entries(a.opt.slots).map(([k, s]) => [k, Object.fromEntries(Object.entries(s).map(([p, t]) => [p, tf.clone(t)]))])) })
    const rb = Recycler.make({ model: b.model, stages: stages(), key: b.root })
    rb.restore(snap)
    expect(rb.fired()).toEqual(ra.fired())
    const ea = drive(a, ra, 20, 7).map((e) => JSON.stringify(e))
    const eb = drive(b, rb, 20, 7).map((e) => JSON.stringify(e))
    expect(eb).toEqual(ea)
    expect(snapshotParams(b.params)).toEqual(snapshotParams(a.params))
    ra.dispose()
    rb.dispose()
    a.dispose()
    b.dispose()
  })

  it("keeps the tensor count flat across many firings", () => {
    const w = world()
    const r = Recycler.make({
      model: w.model,
      stages: [
        stage({ schedule: { every: 2, from: 0 }, criterion: ["select/dormant", dormant({ tau: 10, cap: true })] }),
        stage({ index: 1, schedule: { every: 3, from: 0 }, optimizerState: "zero-moments-and-step", shadow: [["select/random", random()]] })
      ],
      key: w.root
    })
    drive(w, r, 3)
    const at3 = tf.memory().numTensors
    drive(w, r, 30, 3)
    expect(tf.memory().numTensors).toBe(at3)
    r.dispose()
    w.dispose()
  })
})

describe("Recycler guards", () => {
  const nanAt = (position: number): Criterion<void> => ({
    ...magnitudeSmallest(),
    select: (state, signals, request, key) => {
      const s = magnitudeSmallest().select(state, signals, request, key)
      return { layers: s.layers.map((l, p) => (p === position ? { ...l, scores: l.scores.map((x, j) => (j === 1 ? Number.NaN : x)) } : l)) }
    }
  })

  it("a non-finite score fails the run, naming the criterion, the layer and the neuron", () => {
    const w = world()
    const r = Recycler.make({ model: w.model, stages: [stage({ criterion: ["lab/nan", nanAt(1)] })], key: w.root })
    let error: unknown
    try {
      drive(w, r, 1)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(RunError)
    expect((error as RunError).message).toMatch(/recycling stage 0 at step 0: criterion lab\/nan gave neuron \d+ of FF layer 1 the score NaN; scores must be finite/)
  })

  it("signals are read-only: writing a vector or assigning a field throws, naming the criterion", () => {
    const writer = (where: "select" | "observe"): Criterion<void> => ({
      ...magnitudeSmallest(),
      ...(where === "observe" ? { observeEvery: 1 } : {}),
      observe: (s, signals) => {
        if (where === "observe") signals.layers[0]!.magnitude[2] = 0
        return s
      },
      select: (state, signals, request, key) => {
        if (where === "select") signals.layers[1]!.inNorm[0] = -1
        return magnitudeSmallest().select(state, signals, request, key)
      }
    })
    for (const [id, c, pattern] of [
      ["lab/writes-in-select", writer("select"), /criterion lab\/writes-in-select wrote into its signals \(layers\[1\]\.inNorm\[0\]: [\d.e-]+ -> -1\) at step 0; signals are read-only/],
      ["lab/writes-in-observe", writer("observe"), /criterion lab\/writes-in-observe wrote into its signals \(layers\[0\]\.magnitude\[2\]/]
    ] as const) {
      const w = world()
      const r = Recycler.make({ model: w.model, stages: [stage({ criterion: [id, c] })], key: w.root })
      expect(() => drive(w, r, 1)).toThrow(pattern)
    }
    const assigns: Criterion<void> = {
      ...magnitudeSmallest(),
      select: (state, signals, request, key) => {
        ;(signals.layers[0] as { magnitude: Float32Array }).magnitude = new Float32Array(12)
        return magnitudeSmallest().select(state, signals, request, key)
      }
    }
    const w = world()
    const r = Recycler.make({ model: w.model, stages: [stage({ criterion: ["lab/assigns", assigns] })], key: w.root })
    expect(() => drive(w, r, 1)).toThrow(/read only|read-only|Cannot assign/)
  })

  it("Recycle events name each shadow by id and options hash", () => {
    const w = world()
    const st = stage({ shadow: [["select/dormant", dormant({ tau: 0.1, cap: true })], ["select/dormant", dormant({ tau: 0.5, cap: true })]] })
    const hashed: Stage = { ...st, shadow: st.shadow.map((s, j) => ({ ...s, optionsHash: ["aaaa0001", "aaaa0002"][j]! })) }
    const r = Recycler.make({ model: w.model, stages: [hashed], key: w.root })
    for (const e of recycles(drive(w, r, 1))) {
      expect(e.shadow.map((s) => [s.criterion, s.optionsHash])).toEqual([["select/dormant", "aaaa0001"], ["select/dormant", "aaaa0002"]])
      expect(Event.Recycle.make(e)).toEqual(e)
    }
  })
})
