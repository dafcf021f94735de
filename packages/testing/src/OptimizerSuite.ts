/**
 * Optimizer conformance suite for plugin authors. `optimizerConformance(name, make)` registers
 * vitest tests checking the core `Optimizer` contract on a tiny FF-shaped parameter set:
 * slots as declared, pure updates, shapes, step count, `apply` (where provided) equal to update +
 * add, descent on a quadratic, slot surgery by
 * role (`Slots.resetSlices` under each recycling policy) and no tensor leaks. The checks are also
 * exported one by one (`optimizerChecks`) as plain functions that throw on a violation.
 */
import { Key, Optimizer, type Params, Slots } from "@rekindle/core"
import { tidy } from "@rekindle/engine"
import "@tensorflow/tfjs-backend-cpu"
import * as tf from "@tensorflow/tfjs-core"
import { beforeAll, describe, it } from "vitest"

/** Options of the suite; every field has a default suited to a small FF block. */
export interface OptimizerSuiteOptions {
  /** Parameter shapes by name (default: an FF block `ff.win` [4,6], `ff.bin` [6], `ff.wout` [6,4], plus `ln.gain` [4]). */
  readonly shapes?: Readonly<Record<string, ReadonlyArray<number>>>
  /** Neuron slices reset by the slot-surgery checks (default: neurons 1 and 4 of the FF block). */
  readonly slices?: ReadonlyArray<Slots.NeuronSlice>
  /** Steps of the quadratic descent check (default 50). */
  readonly quadraticSteps?: number
  /** Steps taken before the slot-surgery checks, so slots hold non-reset values (default 3). */
  readonly stepsBeforeReset?: number
  /** The slot surgery under test (default `Slots.resetSlices` from @rekindle/plugin-optim). */
  readonly resetSlices?: typeof Slots.resetSlices
  /** TF.js backend the suite sets before its tests (default `cpu`, registered by this module). */
  readonly backend?: string
}

const defaultShapes: Record<string, ReadonlyArray<number>> = {
  "ff.win": [4, 6],
  "ff.bin": [6],
  "ff.wout": [6, 4],
  "ln.gain": [4]
}

const defaultSlices: ReadonlyArray<Slots.NeuronSlice> = [
  { param: "ff.win", axis: 1, indices: [1, 4] },
  { param: "ff.bin", axis: 0, indices: [1, 4] },
  { param: "ff.wout", axis: 0, indices: [1, 4] }
]

/** The recycling policies for optimizer state, in order. */
export const optimizerStatePolicies: ReadonlyArray<Slots.Policy> = ["keep", "zero-moments", "zero-moments-and-step"]

const fail = (message: string): never => {
  throw new Error(message)
}

const sizeOf = (shape: ReadonlyArray<number>) => shape.reduce((a, b) => a * b, 1)

/** Deterministic values in [-1, 1) for each shape (seeded by `seed` and the parameter name). */
const tensorsFor = (shapes: Readonly<Record<string, ReadonlyArray<number>>>, seed: number): Record<string, tf.Tensor> => {
  const out: Record<string, tf.Tensor> = {}
  for (const name of Object.keys(shapes)) {
    const u = Key.uniform(Key.split(Key.make(seed), name))
    const shape = shapes[name]!
    out[name] = tf.tensor(Array.from({ length: sizeOf(shape) }, () => 2 * u() - 1), [...shape])
  }
  return out
}

const read = (m: Params.ParamMap): Record<string, Array<number>> =>
  Object.fromEntries(Object.keys(m).map((n) => [n, Array.from(m[n]!.dataSync())]))

const readState = (s: Optimizer.OptState) =>
  Object.fromEntries(Object.keys(s.slots).map((k) => [k, read(s.slots[k]!)]))

const sameShape = (a: ReadonlyArray<number>, b: ReadonlyArray<number>) =>
  a.length === b.length && a.every((d, i) => d === b[i])

const disposeAll = (ts: Iterable<tf.Tensor>) => {
  for (const t of new Set(ts)) t.dispose()
}

/** Disposes the old state's tensors that the next one does not hold. */
const disposeReplaced = (old: Optimizer.OptState, next: Optimizer.OptState) => {
  const keep = new Set(Optimizer.stateTensors(next))
  disposeAll(Optimizer.stateTensors(old).filter((t) => !keep.has(t)))
}

interface Fixture {
  readonly shapes: Readonly<Record<string, ReadonlyArray<number>>>
  readonly targets: Record<string, tf.Tensor>
  readonly curvature: Record<string, tf.Tensor>
}

const fixture = (options: OptimizerSuiteOptions): Fixture => {
  const shapes = options.shapes ?? defaultShapes
  return {
    shapes,
    targets: tensorsFor(shapes, 2),
    // curvature in [0.5, 1.5): a mildly ill-conditioned quadratic
    curvature: tf.tidy(() => Object.fromEntries(Object.entries(tensorsFor(shapes, 3)).map(([n, t]) => [n, tf.add(tf.mul(t, 0.5), 1)])))
  }
}

const disposeFixture = (f: Fixture) => disposeAll([...Object.values(f.targets), ...Object.values(f.curvature)])

/** Gradients of L(p) = ½ Σ c ⊙ (p − target)². */
const quadraticGrads = (f: Fixture, params: Params.ParamMap): Record<string, tf.Tensor> =>
  Object.fromEntries(Object.keys(params).map((n) => [n, tf.mul(f.curvature[n]!, tf.sub(params[n]!, f.targets[n]!))]))

const quadraticLoss = (f: Fixture, params: Params.ParamMap): number =>
  tf.tidy(() =>
    Object.keys(params).reduce(
      (s, n) => s + tf.sum(tf.mul(f.curvature[n]!, tf.square(tf.sub(params[n]!, f.targets[n]!)))).dataSync()[0]! / 2,
      0
    )
  )

/** Runs `steps` updates on the quadratic from fresh params; returns params and state (caller disposes). */
const descend = (optimizer: Optimizer.Optimizer, f: Fixture, steps: number) => {
  let params = tensorsFor(f.shapes, 1)
  let state = tidy(() => optimizer.init(params))
  for (let t = 0; t < steps; t++) {
    const next = tidy(() => {
      const [updates, s] = optimizer.update(quadraticGrads(f, params), state, params)
      const p: Record<string, tf.Tensor> = {}
      for (const n of Object.keys(params)) {
        const u = updates[n] ?? fail(`update returned no update for parameter "${n}"`)
        if (!sameShape(u.shape, params[n]!.shape)) fail(`update for "${n}" has shape [${u.shape}], expected [${params[n]!.shape}]`)
        p[n] = tf.add(params[n]!, u)
      }
      return { p, s }
    })
    disposeAll(Object.values(params))
    disposeReplaced(state, next.s)
    params = next.p
    state = next.s
  }
  return { params, state }
}

const disposeRun = (r: { params: Record<string, tf.Tensor>; state: Optimizer.OptState }) =>
  disposeAll([...Object.values(r.params), ...Optimizer.stateTensors(r.state)])

/** Whether flat element `flat` of a tensor of `shape` lies in one of `slices` of `param`. */
const inSlices = (param: string, shape: ReadonlyArray<number>, flat: number, slices: ReadonlyArray<Slots.NeuronSlice>) =>
  slices.some((s) => {
    if (s.param !== param) return false
    const stride = shape.slice(s.axis + 1).reduce((a, b) => a * b, 1)
    return s.indices.includes(Math.floor(flat / stride) % shape[s.axis]!)
  })

const roles = (policy: Slots.Policy): ReadonlyArray<Optimizer.SlotSpec["role"]> =>
  policy === "keep" ? [] : policy === "zero-moments" ? ["moment"] : ["moment", "step"]

/** The checks of the suite, each a plain function that throws an Error describing the violation. */
export const optimizerChecks = {
  /** `init` has count 0 and exactly the declared slots, each with every param's name and shape. */
  init: (make: () => Optimizer.Optimizer, options: OptimizerSuiteOptions = {}): void => {
    const optimizer = make()
    const params = tensorsFor(options.shapes ?? defaultShapes, 1)
    const state = tidy(() => optimizer.init(params))
    try {
      if (state.count !== 0) fail(`init: count is ${state.count}, expected 0`)
      const declared = Object.keys(optimizer.slots).sort()
      const present = Object.keys(state.slots).sort()
      if (declared.join() !== present.join()) fail(`init: slots [${present}] differ from the declared [${declared}]`)
      for (const slot of declared) {
        const spec = optimizer.slots[slot]!
        if (spec.role !== "moment" && spec.role !== "step") fail(`slot "${slot}": unknown role ${String(spec.role)}`)
        if (!Number.isFinite(spec.reset)) fail(`slot "${slot}": reset value ${spec.reset} is not finite`)
        for (const name of Object.keys(params)) {
          const t = state.slots[slot]![name] ?? fail(`init: slot "${slot}" has no entry for parameter "${name}"`)
          if (!sameShape(t.shape, params[name]!.shape)) {
            fail(`init: slot "${slot}" of "${name}" has shape [${t.shape}], expected [${params[name]!.shape}]`)
          }
        }
        const extra = Object.keys(state.slots[slot]!).filter((n) => !(n in params))
        if (extra.length > 0) fail(`init: slot "${slot}" has entries for unknown parameters ${extra}`)
      }
    } finally {
      disposeAll([...Object.values(params), ...Optimizer.stateTensors(state)])
    }
  },

  /**
   * `update` is pure: it disposes and changes none of its inputs, and the same inputs give the
   * same outputs; updates have the params' names and shapes; the count goes up by one.
   */
  update: (make: () => Optimizer.Optimizer, options: OptimizerSuiteOptions = {}): void => {
    const optimizer = make()
    const f = fixture(options)
    const run = descend(optimizer, f, 2)
    const grads = tensorsFor(f.shapes, 4)
    const inputs = [...Object.values(run.params), ...Object.values(grads), ...Optimizer.stateTensors(run.state)]
    const before = { p: read(run.params), g: read(grads), s: readState(run.state) }
    const outputs: Array<tf.Tensor> = []
    try {
      const results = [0, 1].map(() => {
        const [u, s] = tidy(() => optimizer.update(grads, run.state, run.params))
        outputs.push(...Object.values(u), ...Optimizer.stateTensors(s))
        const disposed = inputs.filter((t) => t.isDisposed).length
        if (disposed > 0) fail(`update disposed ${disposed} of its input tensors`)
        if (s.count !== run.state.count + 1) fail(`update: count went from ${run.state.count} to ${s.count}, expected +1`)
        for (const n of Object.keys(run.params)) {
          const x = u[n] ?? fail(`update returned no update for parameter "${n}"`)
          if (!sameShape(x.shape, run.params[n]!.shape)) {
            fail(`update for "${n}" has shape [${x.shape}], expected [${run.params[n]!.shape}]`)
          }
        }
        return { u: read(u), s: readState(s) }
      })
      const after = { p: read(run.params), g: read(grads), s: readState(run.state) }
      if (JSON.stringify(after) !== JSON.stringify(before)) fail("update changed the values of its inputs")
      if (JSON.stringify(results[0]) !== JSON.stringify(results[1])) fail("update is not deterministic: same inputs gave different outputs")
      for (const [n, xs] of Object.entries(results[0]!.u)) {
        if (!xs.every(Number.isFinite)) fail(`update for "${n}" is not finite`)
      }
    } finally {
      disposeAll(outputs)
      disposeAll(Object.values(grads))
      disposeRun(run)
      disposeFixture(f)
    }
  },

  /**
   * Where the optimizer provides `apply`: it returns `params + updates` of `update` bit for bit and
   * the same next state (nothing to check otherwise).
   */
  apply: (make: () => Optimizer.Optimizer, options: OptimizerSuiteOptions = {}): void => {
    const optimizer = make()
    if (optimizer.apply === undefined) return
    const f = fixture(options)
    const run = descend(optimizer, f, 2)
    const grads = tensorsFor(f.shapes, 5)
    const outputs: Array<tf.Tensor> = []
    try {
      const [u, s] = tidy(() => optimizer.update(grads, run.state, run.params))
      const added = tidy(() => Object.fromEntries(Object.keys(u).map((n) => [n, tf.add(run.params[n]!, u[n]!)])))
      const [p, s2] = tidy(() => optimizer.apply!(grads, run.state, run.params))
      outputs.push(...Object.values(u), ...Object.values(added), ...Object.values(p), ...Optimizer.stateTensors(s), ...Optimizer.stateTensors(s2))
      if (JSON.stringify(read(p)) !== JSON.stringify(read(added))) fail("apply: the new params differ from params + update")
      if (JSON.stringify(readState(s2)) !== JSON.stringify(readState(s))) fail("apply: the next state differs from update's")
    } finally {
      disposeAll(outputs)
      disposeAll(Object.values(grads))
      disposeRun(run)
      disposeFixture(f)
    }
  },

  /** `steps` updates on L(p) = ½ Σ c ⊙ (p − target)² leave a smaller, finite loss. */
  quadratic: (make: () => Optimizer.Optimizer, options: OptimizerSuiteOptions = {}): void => {
    const optimizer = make()
    const f = fixture(options)
    const steps = options.quadraticSteps ?? 50
    const start = tensorsFor(f.shapes, 1)
    const initial = quadraticLoss(f, start)
    disposeAll(Object.values(start))
    const run = descend(optimizer, f, steps)
    const final = quadraticLoss(f, run.params)
    disposeRun(run)
    disposeFixture(f)
    if (!Number.isFinite(final) || !(final < initial)) {
      fail(`quadratic loss went from ${initial} to ${final} over ${steps} steps; expected a decrease`)
    }
  },

  /**
   * Under `policy`, slot surgery writes each slot's `reset` value into exactly the given slices of
   * the slots whose role the policy resets, leaves every other value as it was, keeps the count
   * and does not dispose the old state.
   */
  resetSlices: (make: () => Optimizer.Optimizer, policy: Slots.Policy, options: OptimizerSuiteOptions = {}): void => {
    const optimizer = make()
    const f = fixture(options)
    const slices = options.slices ?? (options.shapes === undefined ? defaultSlices : [])
    const reset = options.resetSlices ?? Slots.resetSlices
    const run = descend(optimizer, f, options.stepsBeforeReset ?? 3)
    let next: Optimizer.OptState | undefined
    try {
      const before = readState(run.state)
      next = reset(run.state, optimizer, slices, policy)
      if (Optimizer.stateTensors(run.state).some((t) => t.isDisposed)) fail(`resetSlices(${policy}) disposed the old state`)
      if (next.count !== run.state.count) fail(`resetSlices(${policy}) changed the count from ${run.state.count} to ${next.count}`)
      const after = readState(next)
      const resetRoles = roles(policy)
      for (const slot of Object.keys(before)) {
        const spec = optimizer.slots[slot]!
        const applies = resetRoles.includes(spec.role)
        for (const param of Object.keys(before[slot]!)) {
          const old = before[slot]![param]!
          const now = after[slot]?.[param] ?? fail(`resetSlices(${policy}) dropped slot "${slot}" of "${param}"`)
          const shape = run.state.slots[slot]![param]!.shape
          old.forEach((x, i) => {
            const expected = applies && inSlices(param, shape, i, slices) ? Math.fround(spec.reset) : x
            if (!Object.is(now[i], expected)) {
              fail(`resetSlices(${policy}): slot "${slot}" (${spec.role}) of "${param}" element ${i} is ${now[i]}, expected ${expected}`)
            }
          })
        }
      }
    } finally {
      if (next !== undefined) disposeReplaced(next, run.state)
      disposeRun(run)
      disposeFixture(f)
    }
  },

  /** init, updates and slot surgery under every policy leave no tensor behind. */
  leaks: (make: () => Optimizer.Optimizer, options: OptimizerSuiteOptions = {}): void => {
    const optimizer = make()
    const before = tf.memory().numTensors
    const f = fixture(options)
    const run = descend(optimizer, f, 5)
    const reset = options.resetSlices ?? Slots.resetSlices
    for (const policy of optimizerStatePolicies) {
      const next = reset(run.state, optimizer, options.slices ?? (options.shapes === undefined ? defaultSlices : []), policy)
      disposeReplaced(next, run.state)
    }
    disposeRun(run)
    disposeFixture(f)
    const after = tf.memory().numTensors
    if (after !== before) fail(`${after - before} tensors leaked over init, 5 updates and slot surgery`)
  }
}

/**
 * Registers the conformance tests for one optimizer (call at the top level of a test file).
 * `makeOptimizer` is called once per check, so checks never share state.
 */
export const optimizerConformance = (
  name: string,
  makeOptimizer: () => Optimizer.Optimizer,
  options: OptimizerSuiteOptions = {}
): void => {
  describe(`optimizer conformance: ${name}`, () => {
    beforeAll(async () => {
      await tf.setBackend(options.backend ?? "cpu")
    })
    it("init has a slot per declared SlotSpec with every param's name and shape", () => {
      optimizerChecks.init(makeOptimizer, options)
    })
    it("update is pure and deterministic, has the params' shapes and increments the count", () => {
      optimizerChecks.update(makeOptimizer, options)
    })
    it("apply (where provided) equals update then params + updates, bit for bit", () => {
      optimizerChecks.apply(makeOptimizer, options)
    })
    it(`decreases a quadratic loss over ${options.quadraticSteps ?? 50} steps`, () => {
      optimizerChecks.quadratic(makeOptimizer, options)
    })
    for (const policy of optimizerStatePolicies) {
      it(`slot surgery "${policy}" resets only the given slices of the slots whose role it resets`, () => {
        optimizerChecks.resetSlices(makeOptimizer, policy, options)
      })
    }
    it("leaks no tensors", () => {
      optimizerChecks.leaks(makeOptimizer, options)
    })
  })
}
