/**
 * Checks run after every recycling event; each throws a RunError naming the stage, step and what
 * broke, so a bug never silently corrupts an experiment:
 * - the selection is well formed (sorted unique in-range indices, one entry per layer, finite
 *   scores: they are written to events), chooses no ineligible (immune or blending) neuron, and has the size its count kind documents
 *   (rank: exactly min(k, eligible); threshold: at most eligible; bernoulli: at most eligible);
 * - the reinitializer replaced only parameters holding neuron slices, kept shapes and dtypes, wrote
 *   finite values, and changed nothing but the chosen neurons' slices (slicesOnly reinitializers);
 * - the optimizer state keeps its count, slots and shapes; on every parameter holding recycled
 *   slices, each slot changed nowhere but on those slices, and only in slots whose role the policy
 *   resets, where it holds the slot's reset value. (Slots of other parameters are not compared:
 *   `Slots.resetSlices` only receives the recycled slices, and the optimizer conformance suite
 *   checks that it touches nothing else.)
 * "Changed outside the allowed slices?" is `HostValues.changedSlices` (exact, NaN equal to NaN): in
 * place on the wasm heap (wasm SIMD, no copy), elsewhere one readback each and a JavaScript loop;
 * cheaper than full-size comparison kernels. Reset values and finiteness are read through
 * `HostValues.peek` (heap views, read at once with no TF.js operation in between).
 */
import { type Criterion, type Optimizer, type Params, RunError, type Selection, Slots, type Topology } from "@rekindle/core"
import { HostValues } from "@rekindle/engine"
import type * as tf from "@tensorflow/tfjs-core"

/** Where a check runs, for messages. */
export interface Where {
  readonly step: number
  readonly stage: number
  /** The acting criterion's id, when the check is about its choice. */
  readonly criterion?: string
}

const fail = (where: Where, message: string): never => {
  throw new RunError({ step: where.step, message: `recycling stage ${where.stage} at step ${where.step}: ${message}` })
}

/** The selection is well formed, eligible only, and sized as its count kind documents. */
export const checkSelection = (
  where: Where,
  topology: Topology.Topology,
  request: Selection.SelectRequest,
  count: Criterion["count"],
  selection: Selection.Selection
): void => {
  if (selection.layers.length !== topology.layers.length) {
    fail(where, `the criterion returned ${selection.layers.length} layer entries for ${topology.layers.length} FF layers`)
  }
  let total = 0
  let eligibleTotal = 0
  selection.layers.forEach((l, p) => {
    const n = topology.layers[p]!.dFF
    const eligible = request.eligible[p]!
    const nEligible = eligible.reduce((a, b) => a + b, 0)
    eligibleTotal += nEligible
    total += l.indices.length
    if (l.layer !== p) fail(where, `layer entry ${p} says layer ${l.layer}`)
    if (l.scores.length !== l.indices.length) fail(where, `layer ${p}: ${l.scores.length} scores for ${l.indices.length} indices`)
    l.indices.forEach((i, j) => {
      if (!Number.isInteger(i) || i < 0 || i >= n) fail(where, `layer ${p}: index ${i} out of range [0, ${n})`)
      if (j > 0 && i <= l.indices[j - 1]!) fail(where, `layer ${p}: indices not sorted and unique`)
      if (eligible[i] !== 1) fail(where, `layer ${p}: neuron ${i} was chosen but is not eligible (immune or blending)`)
      const score = l.scores[j]!
      if (!Number.isFinite(score)) {
        fail(where, `criterion ${where.criterion ?? "(unnamed)"} gave neuron ${i} of FF layer ${topology.layers[p]!.layer} the score ${score}; scores must be finite`)
      }
    })
    if (count === "rank" && request.scope === "per-layer") {
      const want = Math.min(request.k[p]!, nEligible)
      if (l.indices.length !== want) fail(where, `layer ${p}: a rank criterion chose ${l.indices.length} neurons, expected ${want}`)
    }
  })
  if (count === "rank" && request.scope === "global") {
    const want = Math.min(request.total, eligibleTotal)
    if (total !== want) fail(where, `a rank criterion chose ${total} neurons in total, expected ${want}`)
  }
}

/** Per parameter name, the (layer position, axis) of the neuron slice it holds. */
const sliceOwners = (topology: Topology.Topology): Map<string, { position: number; axis: 0 | 1 }> => {
  const out = new Map<string, { position: number; axis: 0 | 1 }>()
  topology.layers.forEach((l, position) => {
    for (const s of l.slices) out.set(s.param, { position, axis: s.axis })
  })
  return out
}

type Values = ArrayLike<number>

/** The slice geometry of `shape` along `axis`: count, and elements per slice per outer block. */
const geometry = (shape: ReadonlyArray<number>, axis: number) => ({
  n: shape[axis]!,
  inner: shape.slice(axis + 1).reduce((x, y) => x * y, 1)
})

/** max |y − value| over the slices at `indices` along `axis` (NaN when any element is NaN; 0 when none). */
const offIn = (y: Values, shape: ReadonlyArray<number>, axis: number, indices: ReadonlyArray<number>, value: number): number => {
  const { inner, n } = geometry(shape, axis)
  const outer = y.length / (n * inner)
  let off = 0
  for (let o = 0; o < outer; o++) {
    for (const i of indices) {
      const start = (o * n + i) * inner
      for (let e = start; e < start + inner; e++) {
        const d = Math.abs(y[e]! - value)
        if (d !== d) return Number.NaN
        if (d > off) off = d
      }
    }
  }
  return off
}

const preview = (xs: ReadonlyArray<number>) => (xs.length > 8 ? `${xs.slice(0, 8).join(", ")}, … (${xs.length})` : xs.join(", "))

/** The reinitializer's replacements touch only the chosen slices of neuron parameters. */
export const checkReinit = (
  where: Where,
  reinit: string,
  topology: Topology.Topology,
  selection: Selection.Selection,
  before: Params.ParamMap,
  after: Params.ParamMap,
  slicesOnly: boolean
): void => {
  const owners = sliceOwners(topology)
  for (const name of Object.keys(after)) {
    const old = before[name] ?? fail(where, `reinit ${reinit} returned unknown parameter "${name}"`)
    const t = after[name]!
    if (t.shape.join() !== old.shape.join()) fail(where, `reinit ${reinit} gave "${name}" shape [${t.shape}], expected [${old.shape}]`)
    if (t.dtype !== old.dtype) fail(where, `reinit ${reinit} gave "${name}" dtype ${t.dtype}, expected ${old.dtype}`)
    const owner = owners.get(name) ?? fail(where, `reinit ${reinit} replaced "${name}", which holds no neuron slice`)
    const chosen = selection.layers[owner.position]?.indices ?? []
    if (chosen.length > 0 && !Number.isFinite(offIn(HostValues.peek(t), t.shape, owner.axis, chosen, 0))) {
      fail(where, `reinit ${reinit} wrote non-finite values into "${name}"`)
    }
    if (!slicesOnly) continue
    // exact, NaN equal to NaN; the same data (one data id) differs nowhere
    const stray = HostValues.changedSlices(old, t, owner.axis, chosen)
    if (stray.length > 0) fail(where, `reinit ${reinit} changed unchosen neurons [${preview(stray)}] of "${name}"`)
  }
}

/** The optimizer state after the policy: only chosen slices changed, reset slots hold their reset values there. */
export const checkSlots = (
  where: Where,
  optimizer: Pick<Optimizer.Optimizer, "slots">,
  policy: Slots.Policy,
  slices: ReadonlyArray<Slots.NeuronSlice>,
  before: Optimizer.OptState,
  after: Optimizer.OptState
): void => {
  if (after.count !== before.count) fail(where, `optimizer count changed from ${before.count} to ${after.count}`)
  const roles = Slots.rolesOf(policy)
  const bySlice = new Map<string, Slots.NeuronSlice>()
  for (const s of slices) bySlice.set(s.param, s)
  checkSlotValues(where, optimizer, policy, roles, bySlice, before, after)
}

const checkSlotValues = (
  where: Where,
  optimizer: Pick<Optimizer.Optimizer, "slots">,
  policy: Slots.Policy,
  roles: ReadonlySet<Optimizer.SlotSpec["role"]>,
  bySlice: ReadonlyMap<string, Slots.NeuronSlice>,
  before: Optimizer.OptState,
  after: Optimizer.OptState
): void => {
  for (const slotName of Object.keys(before.slots)) {
    const spec = optimizer.slots[slotName] ?? fail(where, `optimizer state has undeclared slot "${slotName}"`)
    const b = before.slots[slotName]!
    const a = after.slots[slotName] ?? fail(where, `optimizer slot "${slotName}" disappeared`)
    for (const param of Object.keys(b)) {
      const x = b[param]!
      const y = a[param] ?? fail(where, `optimizer slot "${slotName}" lost parameter "${param}"`)
      if (y.shape.join() !== x.shape.join()) fail(where, `optimizer slot "${slotName}" of "${param}" changed shape`)
      const s = bySlice.get(param)
      if (s === undefined) continue
      const resets = roles.has(spec.role)
      const allowed = resets ? s.indices : []
      const stray = HostValues.changedSlices(x, y, s.axis, allowed)
      if (stray.length > 0) fail(where, `optimizer slot "${slotName}" of "${param}" changed outside the reset slices at [${preview(stray)}]`)
      if (resets && s.indices.length > 0) {
        const off = offIn(HostValues.peek(y), y.shape, s.axis, s.indices, spec.reset)
        if (!(off === 0)) fail(where, `policy ${policy}: slot "${slotName}" of "${param}" is not ${spec.reset} on the recycled slices (off by ${off})`)
      }
    }
  }
}
