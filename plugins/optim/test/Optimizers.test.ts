import { Optimizer } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import "@tensorflow/tfjs-backend-cpu"
import { beforeAll, describe, expect, it } from "vitest"
import { Slots } from "@rekindle/core"
import { tidy } from "@rekindle/engine"
import { adam, adamw, sgd } from "../src/index.ts"
import { disposeRun, gradValues, initialValues, maxError, read, run, shapes, toTensors } from "./fixtures.ts"
import { refAdam, refSgd, type RefParam } from "./reference.ts"

beforeAll(async () => {
  await tf.setBackend("cpu")
})

const refParams = (): Record<string, RefParam> =>
  Object.fromEntries(Object.entries(initialValues()).map(([n, v]) => [n, { values: v, rank: shapes[n]!.length }]))

const refRun = (step: (p: Record<string, RefParam>, g: Record<string, Array<number>>) => void, steps: number) => {
  const p = refParams()
  for (let t = 0; t < steps; t++) step(p, gradValues(t))
  return Object.fromEntries(Object.entries(p).map(([n, x]) => [n, x.values]))
}

const compare = (optimizer: ReturnType<typeof adam>, reference: Record<string, Array<number>>, steps: number) => {
  const r = run(optimizer, steps)
  const got = read(r.params)
  disposeRun(r)
  return maxError(got, reference)
}

describe("numbers against a plain-JS reference (float32 vs float64, rel. tol 2e-6)", () => {
  it("adam, 6 steps", () => {
    const err = compare(adam({ lr: 0.05 }), refRun(refAdam({ lr: () => 0.05, b1: 0.9, b2: 0.999, eps: 1e-8 }), 6), 6)
    expect(err).toBeLessThan(2e-6)
  })
  it("adam with other betas and eps, and a schedule", () => {
    const lr = (t: number) => 0.1 * Math.min(1, (t + 1) / 3)
    const ref = refRun(refAdam({ lr, b1: 0.5, b2: 0.9, eps: 1e-3 }), 6)
    const err = compare(adam({ lr: 0.1, betas: [0.5, 0.9], eps: 1e-3, schedule: { kind: "warmup", warmupSteps: 3 } }), ref, 6)
    expect(err).toBeLessThan(2e-6)
  })
  it("adamw decays matrices only by default", () => {
    const ref = refRun(refAdam({ lr: () => 0.05, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0.1 }), 6)
    expect(compare(adamw({ lr: 0.05, weightDecay: 0.1 }), ref, 6)).toBeLessThan(2e-6)
    // and really differs from decaying everything
    const refAll = refRun(refAdam({ lr: () => 0.05, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0.1, decayRank1: true }), 6)
    expect(maxError(ref, refAll)).toBeGreaterThan(1e-3)
    expect(compare(adamw({ lr: 0.05, weightDecay: 0.1, decayMask: "all" }), refAll, 6)).toBeLessThan(2e-6)
  })
  it("sgd with momentum, plain and nesterov; plain sgd", () => {
    for (const nesterov of [false, true]) {
      const ref = refRun(refSgd({ lr: () => 0.1, momentum: 0.9, nesterov }), 6)
      expect(compare(sgd({ lr: 0.1, momentum: 0.9, nesterov }), ref, 6)).toBeLessThan(2e-6)
    }
    const ref = refRun(refSgd({ lr: () => 0.1, momentum: 0, nesterov: false }), 4)
    expect(compare(sgd({ lr: 0.1 }), ref, 4)).toBeLessThan(2e-6)
    expect(Object.keys(sgd({ lr: 0.1 }).slots)).toEqual([])
  })
})

describe("weight decay mask", () => {
  it("with zero gradients, adamw moves exactly -lr*wd*p on matrices and nothing else", () => {
    const lr = 0.1, wd = 0.5
    const zeros = () => toTensors(Object.fromEntries(Object.entries(initialValues()).map(([n, v]) => [n, v.map(() => 0)])))
    const r = run(adamw({ lr, weightDecay: wd }), 1, { grads: zeros })
    const got = read(r.params)
    disposeRun(r)
    const init = initialValues()
    for (const [n, v] of Object.entries(init)) {
      const expected = shapes[n]!.length >= 2 ? v.map((x) => x * (1 - lr * wd)) : v
      expect(maxError({ [n]: got[n]! }, { [n]: expected }), n).toBeLessThan(1e-6)
    }
  })
  it("a predicate mask picks parameters by name", () => {
    const zeros = () => toTensors(Object.fromEntries(Object.entries(initialValues()).map(([n, v]) => [n, v.map(() => 0)])))
    const r = run(adamw({ lr: 0.1, weightDecay: 0.5, decayMask: (name) => name === "ln.gain" }), 1, { grads: zeros })
    const got = read(r.params)
    disposeRun(r)
    const init = initialValues()
    expect(got["ff.win"]).toEqual(init["ff.win"]!.map(Math.fround))
    expect(maxError({ g: got["ln.gain"]! }, { g: init["ln.gain"]!.map((x) => x * 0.95) })).toBeLessThan(1e-6)
  })
})

describe("state is keyed by name", () => {
  it("reordering the params gives the same result", () => {
    const a = run(adamw({ lr: 0.05, clipNorm: 1 }), 4)
    const b = run(adamw({ lr: 0.05, clipNorm: 1 }), 4, { order: Object.keys(shapes).reverse() })
    const ra = read(a.params), rb = read(b.params)
    const sa = Object.fromEntries(Object.entries(a.state.slots).map(([k, m]) => [k, read(m)]))
    const sb = Object.fromEntries(Object.entries(b.state.slots).map(([k, m]) => [k, read(m)]))
    disposeRun(a)
    disposeRun(b)
    expect(Object.keys(rb)).toEqual(Object.keys(shapes).reverse())
    expect(rb).toEqual(ra)
    expect(sb).toEqual(sa)
  })
})

describe("bias correction restarts per element", () => {
  const b1 = 0.9, b2 = 0.999, eps = 1e-8, lr = 0.01
  const slices: Array<Slots.NeuronSlice> = [
    { param: "ff.win", axis: 1, indices: [1, 3] },
    { param: "ff.bin", axis: 0, indices: [1, 3] },
    { param: "ff.wout", axis: 0, indices: [1, 3] }
  ]
  const isReset = (name: string, flat: number): boolean => {
    const shape = shapes[name]!
    if (name === "ff.win") return [1, 3].includes(flat % shape[1]!)
    if (name === "ff.bin") return [1, 3].includes(flat)
    if (name === "ff.wout") return [1, 3].includes(Math.floor(flat / shape[1]!))
    return false
  }
  /** The update of step 6 after 5 steps and a reset with `policy`, element by element. */
  const updateAfterReset = (policy: Slots.Policy) => {
    const opt = adam({ lr, betas: [b1, b2], eps })
    const r = run(opt, 5)
    const reset = Slots.resetSlices(r.state, opt, slices, policy)
    const g = toTensors(gradValues(5))
    const [u, s] = opt.update(g, reset, r.params)
    const out = read(u)
    for (const t of [...Object.values(g), ...Object.values(u)]) t.dispose()
    for (const st of [reset, s]) for (const m of Object.values(st.slots)) for (const t of Object.values(m)) t.dispose()
    disposeRun(r)
    return out
  }
  it("zero-moments-and-step: a reset element's next update is a first-step update; others are untouched", () => {
    const keep = updateAfterReset("keep")
    const both = updateAfterReset("zero-moments-and-step")
    const g = gradValues(5)
    let resetCount = 0
    for (const name of Object.keys(shapes)) {
      both[name]!.forEach((x, i) => {
        if (isReset(name, i)) {
          resetCount++
          const gi = g[name]![i]!
          // first Adam step: m̂ = g, v̂ = g², update = -lr * g / (|g| + eps)
          expect(x).toBeCloseTo(-lr * gi / (Math.abs(gi) + eps), 7)
        } else {
          expect(x).toBe(keep[name]![i])
        }
      })
    }
    expect(resetCount).toBe(3 * 2 + 2 + 2 * 3)
  })
  it("zero-moments alone keeps the element's bias correction (smaller first update)", () => {
    const moments = updateAfterReset("zero-moments")
    const g = gradValues(5)
    const i = 1 // ff.bin[1] is reset
    const gi = g["ff.bin"]![i]!
    const t = 6
    const expected = -lr * ((1 - b1) * gi / (1 - b1 ** t)) / (Math.sqrt((1 - b2) * gi * gi / (1 - b2 ** t)) + eps)
    expect(moments["ff.bin"]![i]).toBeCloseTo(expected, 6)
    expect(Math.abs(expected)).toBeLessThan(0.9 * lr) // a first-step update has magnitude ~lr
  })
})

describe("tensor hygiene", () => {
  it("no tensor leaks over steps, resets and inits", () => {
    for (const opt of [adamw({ lr: 0.01, clipNorm: 0.5 }), sgd({ lr: 0.1, momentum: 0.9, nesterov: true })]) {
      const before = tf.memory().numTensors
      const r = run(opt, 5)
      const reset = Slots.resetSlices(r.state, opt, [{ param: "ff.win", axis: 1, indices: [0] }], "zero-moments-and-step")
      for (const m of Object.values(reset.slots)) for (const t of Object.values(m)) t.dispose()
      disposeRun(r)
      expect(tf.memory().numTensors).toBe(before)
    }
  })
  it("update disposes none of its inputs", () => {
    const opt = adamw({ lr: 0.01, clipNorm: 0.5 })
    const params = toTensors(initialValues())
    const grads = toTensors(gradValues(0))
    const state = tidy(() => opt.init(params))
    const [u, next] = tidy(() => opt.update(grads, state, params))
    for (const t of [...Object.values(u), ...Optimizer.stateTensors(next)]) t.dispose()
    const inputs = [...Object.values(params), ...Object.values(grads), ...Object.values(state.slots).flatMap((m) => Object.values(m))]
    expect(inputs.every((t) => !t.isDisposed)).toBe(true)
    inputs.forEach((t) => t.dispose())
  })
})
