/**
 * Selection-criterion conformance suite for plugin authors. `criterionConformance(id, source)`
 * registers vitest tests checking the core `Criterion` contract on synthetic signals over a
 * topology of uneven layers, for per-layer and global requests at several fractions and
 * eligibility patterns: well-formed selections (one entry per layer, indices sorted, unique, in
 * range, scores aligned), the count its `count` kind documents, determinism for a key, immune
 * (ineligible) neurons never chosen, inputs never mutated, and no tensor leaks. `source` is a
 * plugin part (its options decoded from `options.options`, default `{}`) or a factory. The checks
 * are also exported one by one (`criterionChecks`) as plain functions that throw on a violation.
 */
import { isDeepStrictEqual } from "node:util"
import { type Criterion, Key, Plugin, Selection, type Signals, type Topology } from "@rekindle/core"
import "@tensorflow/tfjs-backend-cpu"
import * as tf from "@tensorflow/tfjs-core"
import { beforeAll, describe, it } from "vitest"
import { syntheticSignals, syntheticTopology } from "./Fixtures.ts"
import { build, fail } from "./Options.ts"

/** A criterion part or a factory of criteria. */
export type CriterionSource = Plugin.Part<"criteria", any, any> | (() => Criterion<any>)

/** Options of the suite. */
export interface CriterionSuiteOptions {
  /** Part options, decoded by the part's schema (parts only; default `{}`). */
  readonly options?: unknown
  /** Widths of the synthetic FF layers (default [16, 24, 7]). */
  readonly widths?: ReadonlyArray<number>
  /** Threshold criteria: whether they choose at most the requested k (default true). */
  readonly capped?: boolean
  /** Observations folded into the state before selecting (default 3). */
  readonly observations?: number
}

/** Builds a fresh criterion from a part (decoding `options`) or a factory. */
export const makeCriterion = (source: CriterionSource, options: unknown = {}): Criterion<any> => build("makeCriterion", source, options)

/** One request the suite asks, with a label for messages. */
interface Case {
  readonly label: string
  readonly request: Selection.SelectRequest
}

const eligibilityPatterns = (topology: Topology.Topology): Array<[string, Array<Uint8Array>]> => [
  ["all eligible", topology.layers.map((l) => new Uint8Array(l.dFF).fill(1))],
  ["every third immune", topology.layers.map((l) => Uint8Array.from({ length: l.dFF }, (_, i) => (i % 3 === 1 ? 0 : 1)))],
  ["layer 0 immune", topology.layers.map((l, p) => new Uint8Array(l.dFF).fill(p === 0 ? 0 : 1))]
]

/** The requests every check runs: both scopes × fractions 0, 0.1, 0.3, 0.5, 1 × eligibility patterns. */
export const requestsFor = (topology: Topology.Topology): Array<Case> => {
  const out: Array<Case> = []
  const total = topology.layers.reduce((n, l) => n + l.dFF, 0)
  for (const scope of ["per-layer", "global"] as const) {
    for (const fraction of [0, 0.1, 0.3, 0.5, 1]) {
      for (const [name, eligible] of eligibilityPatterns(topology)) {
        out.push({
          label: `${scope}, fraction ${fraction}, ${name}`,
          request: {
            scope,
            fraction,
            k: topology.layers.map((l) => Math.round(fraction * l.dFF)),
            total: Math.round(fraction * total),
            eligible
          }
        })
      }
    }
  }
  return out
}

interface Setup {
  readonly criterion: Criterion<any>
  readonly topology: Topology.Topology
  readonly signals: Signals
  readonly state: unknown
}

/** A fresh criterion with `observations` observations folded in, and the signals to select with. */
const setup = (source: CriterionSource, options: CriterionSuiteOptions, seed = 11): Setup => {
  const criterion = makeCriterion(source, options.options)
  const topology = syntheticTopology(options.widths ?? [16, 24, 7])
  let state = criterion.init(topology)
  const n = options.observations ?? 3
  const values = Object.keys(criterion.signals ?? {})
  for (let i = 1; i <= n; i++) state = criterion.observe(state, syntheticSignals(topology, seed + i, i, values))
  return { criterion, topology, signals: syntheticSignals(topology, seed, n + 1, values), state }
}

const keyFor = (i: number) => Key.fold(Key.split(Key.make(3), "selection"), i)

/** Throws unless `s` is well formed for `topology` and chooses only eligible neurons. */
export const checkWellFormed = (s: Selection.Selection, topology: Topology.Topology, request: Selection.SelectRequest, label: string): void => {
  if (s.layers.length !== topology.layers.length) fail(`${label}: ${s.layers.length} layer entries, expected ${topology.layers.length}`)
  s.layers.forEach((l, p) => {
    const where = `${label}, layer ${p}`
    if (l.layer !== p) fail(`${where}: entry has layer ${l.layer}, expected ${p}`)
    const n = topology.layers[p]!.dFF
    if (l.scores.length !== l.indices.length) fail(`${where}: ${l.scores.length} scores for ${l.indices.length} indices`)
    l.indices.forEach((i, j) => {
      if (!Number.isInteger(i) || i < 0 || i >= n) fail(`${where}: index ${i} out of range [0, ${n})`)
      if (j > 0 && i <= l.indices[j - 1]!) fail(`${where}: indices not sorted ascending and unique (${l.indices[j - 1]} then ${i})`)
      if (request.eligible[p]![i] !== 1) fail(`${where}: chose neuron ${i}, which is not eligible (immune)`)
      if (typeof l.scores[j] !== "number") fail(`${where}: score of neuron ${i} is not a number`)
      if (!Number.isFinite(l.scores[j])) fail(`${where}: score of neuron ${i} is ${l.scores[j]}; every score must be finite`)
    })
  })
}

const eligibleCount = (request: Selection.SelectRequest, p: number) => request.eligible[p]!.reduce((n, e) => n + e, 0)

/** Throws unless the selection's size is what the criterion's `count` kind promises. */
export const checkCount = (
  s: Selection.Selection,
  criterion: Criterion<any>,
  request: Selection.SelectRequest,
  label: string,
  capped = true
): void => {
  const counts = s.layers.map((l) => l.indices.length)
  const total = counts.reduce((a, b) => a + b, 0)
  const eligible = counts.map((_, p) => eligibleCount(request, p))
  const eligibleTotal = eligible.reduce((a, b) => a + b, 0)
  counts.forEach((c, p) => {
    if (c > eligible[p]!) fail(`${label}, layer ${p}: chose ${c} of only ${eligible[p]} eligible neurons`)
  })
  switch (criterion.count) {
    case "rank":
      if (request.scope === "global") {
        const want = Math.min(request.total, eligibleTotal)
        if (total !== want) fail(`${label}: rank criterion chose ${total} in total, expected exactly ${want}`)
      } else {
        counts.forEach((c, p) => {
          const want = Math.min(request.k[p]!, eligible[p]!)
          if (c !== want) fail(`${label}, layer ${p}: rank criterion chose ${c}, expected exactly ${want}`)
        })
      }
      return
    case "threshold":
      if (!capped) return
      if (request.scope === "global") {
        if (total > request.total) fail(`${label}: capped threshold criterion chose ${total} > total ${request.total}`)
      } else {
        counts.forEach((c, p) => {
          if (c > request.k[p]!) fail(`${label}, layer ${p}: capped threshold criterion chose ${c} > k ${request.k[p]}`)
        })
      }
      return
    case "bernoulli":
      if (request.fraction === 0 && total !== 0) fail(`${label}: Bernoulli criterion chose ${total} with p = 0`)
      if (request.fraction === 1 && total !== eligibleTotal) {
        fail(`${label}: Bernoulli criterion chose ${total} of ${eligibleTotal} eligible with p = 1`)
      }
      return
  }
}

/** The checks of the suite, each a plain function that throws an Error describing the violation. */
export const criterionChecks = {
  /** Every request gets a well-formed selection of eligible neurons only. */
  wellFormed: (source: CriterionSource, options: CriterionSuiteOptions = {}): void => {
    const { criterion, topology, signals, state } = setup(source, options)
    requestsFor(topology).forEach((c, i) => checkWellFormed(criterion.select(state, signals, c.request, keyFor(i)), topology, c.request, c.label))
  },

  /** Counts: rank = exactly min(k, eligible); threshold ≤ eligible (≤ k when capped); Bernoulli 0 at p = 0, all at p = 1, ≈ p·n. */
  count: (source: CriterionSource, options: CriterionSuiteOptions = {}): void => {
    const { criterion, topology, signals, state } = setup(source, options)
    requestsFor(topology).forEach((c, i) =>
      checkCount(criterion.select(state, signals, c.request, keyFor(i)), criterion, c.request, c.label, options.capped ?? true)
    )
    if (criterion.count !== "bernoulli") return
    const wide = setup(source, { ...options, widths: [4000] })
    const p = 0.3
    const request: Selection.SelectRequest = {
      scope: "per-layer",
      fraction: p,
      k: [Math.round(p * 4000)],
      total: Math.round(p * 4000),
      eligible: [new Uint8Array(4000).fill(1)]
    }
    const n = Selection.count(wide.criterion.select(wide.state, wide.signals, request, keyFor(0)))
    const sigma = Math.sqrt(4000 * p * (1 - p))
    if (Math.abs(n - 4000 * p) > 5 * sigma) fail(`Bernoulli criterion chose ${n} of 4000 at p = ${p} (expected ${4000 * p} ± ${Math.round(5 * sigma)})`)
  },

  /** Same construction, observations and key give the same selection; selecting twice from one state too. */
  deterministic: (source: CriterionSource, options: CriterionSuiteOptions = {}): void => {
    const a = setup(source, options)
    const b = setup(source, options)
    requestsFor(a.topology).forEach((c, i) => {
      const x = a.criterion.select(a.state, a.signals, c.request, keyFor(i))
      const y = b.criterion.select(b.state, b.signals, c.request, keyFor(i))
      const z = a.criterion.select(a.state, a.signals, c.request, keyFor(i))
      if (!isDeepStrictEqual(x, y)) fail(`${c.label}: two identically built criteria chose differently for the same key`)
      if (!isDeepStrictEqual(x, z)) fail(`${c.label}: selecting twice from the same state with the same key differs`)
    })
  },

  /** `observe`, `select` and `forget` leave their inputs (state, signals, request) unchanged. */
  pure: (source: CriterionSource, options: CriterionSuiteOptions = {}): void => {
    const { criterion, topology, signals, state } = setup(source, options)
    const cases = requestsFor(topology)
    const before = structuredClone({ state, signals, requests: cases.map((c) => c.request) })
    const chosen = cases.map((c, i) => criterion.select(state, signals, c.request, keyFor(i)))
    criterion.observe(state, signals)
    for (const s of chosen) {
      if (criterion.forget !== undefined) {
        const forgotten = criterion.forget(state, s)
        const again = criterion.select(forgotten, signals, cases[0]!.request, keyFor(0))
        checkWellFormed(again, topology, cases[0]!.request, "after forget")
      }
    }
    const after = { state, signals, requests: cases.map((c) => c.request) }
    if (!isDeepStrictEqual(before.state, after.state)) fail("observe, select or forget mutated the criterion state")
    if (!isDeepStrictEqual(before.signals, after.signals)) fail("observe, select or forget mutated the signals")
    if (!isDeepStrictEqual(before.requests, after.requests)) fail("select mutated the request")
    if (criterion.observeEvery !== undefined && !(Number.isInteger(criterion.observeEvery) && criterion.observeEvery > 0)) {
      fail(`observeEvery is ${criterion.observeEvery}, expected a positive integer`)
    }
  },

  /** Building, observing and selecting allocate no tensors that outlive the calls. */
  leaks: (source: CriterionSource, options: CriterionSuiteOptions = {}): void => {
    const before = tf.memory().numTensors
    const { criterion, topology, signals, state } = setup(source, options)
    requestsFor(topology).forEach((c, i) => criterion.select(state, signals, c.request, keyFor(i)))
    const after = tf.memory().numTensors
    if (after !== before) fail(`${after - before} tensors leaked`)
  }
}

/** Registers the conformance tests of a criterion (part or factory) under `criterion <id>`. */
export const criterionConformance = (id: string, source: CriterionSource, options: CriterionSuiteOptions = {}): void => {
  describe(`criterion ${id} (conformance)`, () => {
    beforeAll(async () => {
      await tf.setBackend("cpu")
    })
    it("answers every request with sorted, unique, in-range, eligible indices", () => criterionChecks.wellFormed(source, options))
    it("chooses as many neurons as its count kind documents", () => criterionChecks.count(source, options))
    it("is deterministic for a key", () => criterionChecks.deterministic(source, options))
    it("does not mutate its inputs", () => criterionChecks.pure(source, options))
    it("leaks no tensors", () => criterionChecks.leaks(source, options))
  })
}
