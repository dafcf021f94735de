/**
 * The suite itself: it passes on a small, correct optimizer written here against the core
 * contract alone, and each check fails on an optimizer broken in the way it guards against.
 */
import { type Optimizer, type Params, Slots } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import { beforeAll, describe, expect, it } from "vitest"
import { optimizerChecks, optimizerConformance } from "../src/OptimizerSuite.ts"

const map = (m: Params.ParamMap, f: (t: tf.Tensor, n: string) => tf.Tensor) =>
  Object.fromEntries(Object.keys(m).map((n) => [n, f(m[n]!, n)]))

/**
 * Momentum SGD whose step size shrinks per element with that element's own step counter
 * (`ref.age`, role step, reset 0): lr / sqrt(1 + age). Exercises both slot roles.
 */
const reference = (lr = 0.1, decay = 0.5): Optimizer.Optimizer => ({
  name: "reference",
  slots: { "ref.trace": { role: "moment", reset: 0 }, "ref.age": { role: "step", reset: 0 } },
  learningRate: () => lr,
  init: (params) => ({
    count: 0,
    slots: { "ref.trace": map(params, (p) => tf.zerosLike(p)), "ref.age": map(params, (p) => tf.zerosLike(p)) }
  }),
  update: (grads, state) => {
    const trace = map(grads, (g, n) => tf.add(g, tf.mul(state.slots["ref.trace"]![n]!, decay)))
    const age = map(grads, (_, n) => tf.add(state.slots["ref.age"]![n]!, 1))
    const updates = map(trace, (t, n) => tf.mul(tf.div(t, tf.sqrt(age[n]!)), -lr))
    return [updates, { count: state.count + 1, slots: { "ref.trace": trace, "ref.age": age } }]
  }
})

/** `reference` with one method replaced. */
const broken = (patch: Partial<Optimizer.Optimizer>) => (): Optimizer.Optimizer => ({ ...reference(), ...patch })

optimizerConformance("reference momentum (core contract only)", () => reference())

describe("each check fails on a matching bug", () => {
  beforeAll(async () => {
    await tf.setBackend("cpu")
  })
  it("init: a declared slot missing, or of the wrong shape", () => {
    const r = reference()
    const missing = broken({ init: (p) => ({ count: 0, slots: { "ref.trace": r.init(p).slots["ref.trace"]! } }) })
    expect(() => optimizerChecks.init(missing)).toThrow(/differ from the declared/)
    const flat = broken({
      init: (p) => ({ count: 0, slots: { "ref.trace": map(p, (t) => tf.zeros([t.size])), "ref.age": map(p, (t) => tf.zerosLike(t)) } })
    })
    expect(() => optimizerChecks.init(flat)).toThrow(/has shape/)
  })
  it("update: disposing the gradients, randomness, a stuck count, a wrong shape", () => {
    const r = reference()
    const disposing = broken({ update: (g, s, p) => { const out = r.update(g, s, p); Object.values(g).forEach((t) => t.dispose()); return out } })
    expect(() => optimizerChecks.update(disposing)).toThrow(/disposed/)
    const noisy = broken({ update: (g, s, p) => { const [u, n] = r.update(g, s, p); return [map(u, (t) => tf.add(t, tf.randomUniform(t.shape))), n] } })
    expect(() => optimizerChecks.update(noisy)).toThrow(/not deterministic/)
    const stuck = broken({ update: (g, s, p) => { const [u, n] = r.update(g, s, p); return [u, { ...n, count: s.count }] } })
    expect(() => optimizerChecks.update(stuck)).toThrow(/count/)
    const reshaped = broken({ update: (g, s, p) => { const [u, n] = r.update(g, s, p); return [map(u, (t) => tf.reshape(t, [t.size])), n] } })
    expect(() => optimizerChecks.update(reshaped)).toThrow(/has shape/)
  })
  it("quadratic: gradient ascent", () => {
    const r = reference()
    const ascent = broken({ update: (g, s, p) => { const [u, n] = r.update(g, s, p); return [map(u, (t) => tf.neg(t)), n] } })
    expect(() => optimizerChecks.quadratic(ascent)).toThrow(/expected a decrease/)
  })
  it("slot surgery: resetting whole tensors, or the wrong roles", () => {
    const wholeTensor: typeof Slots.resetSlices = (state, opt, slices, policy) =>
      Slots.resetSlices(state, opt, slices.map((s) => ({ ...s, indices: [...Array(6).keys()] })), policy)
    expect(() => optimizerChecks.resetSlices(reference, "zero-moments", { resetSlices: wholeTensor })).toThrow(/element/)
    const ignoresPolicy: typeof Slots.resetSlices = (state, opt, slices) => Slots.resetSlices(state, opt, slices, "zero-moments-and-step")
    expect(() => optimizerChecks.resetSlices(reference, "zero-moments", { resetSlices: ignoresPolicy })).toThrow(/ref.age/)
    expect(() => optimizerChecks.resetSlices(reference, "keep", { resetSlices: ignoresPolicy })).toThrow(/ref.trace/)
  })
  it("leaks: a tensor kept by update", () => {
    const r = reference()
    const leaky = broken({ update: (g, s, p) => { tf.keep(tf.scalar(1)); return r.update(g, s, p) } })
    expect(() => optimizerChecks.leaks(leaky)).toThrow(/leaked/)
  })
})
