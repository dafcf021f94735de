/**
 * Gradient transformations in the Optax style: small pure blocks (`scaleByAdam`, `trace`,
 * `clipByGlobalNorm`, ...) that map updates to updates and keep named, parameter-shaped slots.
 * `chain` composes them; `toOptimizer` turns a chain into a core `Optimizer` (adding the step
 * count). All functions are synchronous TF.js, run by the host inside `tf.tidy`; none disposes
 * its inputs.
 */
import { Bug, type Optimizer, type Params } from "@rekindle/core"

/** Slot maps by slot name (each slot is a ParamMap keyed like the params). */
export type SlotMaps = Readonly<Record<string, Params.ParamMap>>

/** One gradient transformation: declared slots, their initial values and the update rule. */
export interface Transform {
  /** Short description, e.g. `scale_by_adam(b1=0.9, b2=0.999, eps=1e-8)`. */
  readonly name: string
  /** The slots this block keeps (names unique across a chain), with their reset roles. */
  readonly slots: Readonly<Record<string, Optimizer.SlotSpec>>
  /** Initial values of this block's slots (only its own). */
  readonly init: (params: Params.ParamMap) => Record<string, Params.ParamMap>
  /**
   * Maps `updates` to new updates. `slots` holds every slot of the chain (a block reads its own);
   * the second result holds this block's new slots. `count` = updates applied before this one.
   */
  readonly update: (
    updates: Params.ParamMap,
    slots: SlotMaps,
    params: Params.ParamMap,
    count: number
  ) => readonly [Params.ParamMap, Record<string, Params.ParamMap>]
  /**
   * Optional: `update`, then `params + updates` (bit for bit), returning the new parameters; a
   * block whose last pass can add the update itself provides it (see `Optimizer.apply`).
   */
  readonly apply?: Transform["update"]
}

/** Reads one slot of one block, failing loudly when the state does not match the optimizer. */
export const slot = (slots: SlotMaps, slotName: string, param: string) => {
  const t = slots[slotName]?.[param]
  if (t === undefined) throw new Bug(`optimizer state has no slot "${slotName}" for parameter "${param}"`)
  return t
}

/** Composes blocks left to right; throws when two blocks declare the same slot name. */
export const chain = (...transforms: ReadonlyArray<Transform>): Transform => {
  const slots: Record<string, Optimizer.SlotSpec> = {}
  for (const t of transforms) {
    for (const [name, spec] of Object.entries(t.slots)) {
      if (name in slots) throw new Bug(`chain: slot name "${name}" is declared twice (in ${t.name})`)
      slots[name] = spec
    }
  }
  /** Runs the blocks in turn; the last one through `apply` when `applyLast`. */
  const run = (applyLast: boolean): Transform["update"] => (updates, state, params, count) => {
    let u = updates
    const next: Record<string, Params.ParamMap> = {}
    transforms.forEach((t, i) => {
      const [u2, s] = applyLast && i === transforms.length - 1 ? t.apply!(u, state, params, count) : t.update(u, state, params, count)
      u = u2
      Object.assign(next, s)
    })
    return [u, next]
  }
  const last = transforms[transforms.length - 1]
  return {
    name: transforms.map((t) => t.name).join(" -> "),
    slots,
    init: (params) => Object.assign({}, ...transforms.map((t) => t.init(params))),
    update: run(false),
    ...(last?.apply === undefined ? {} : { apply: run(true) })
  }
}

/** A core `Optimizer` from a transform: adds the global step count and the learning-rate readout. */
export const toOptimizer = (
  transform: Transform,
  options: { readonly name: string; readonly learningRate: Optimizer.Schedule }
): Optimizer.Optimizer => ({
  name: options.name,
  slots: transform.slots,
  learningRate: options.learningRate,
  init: (params) => ({ count: 0, slots: transform.init(params) }),
  update: (grads, state, params) => {
    const [updates, slots] = transform.update(grads, state.slots, params, state.count)
    return [updates, { count: state.count + 1, slots }]
  },
  ...(transform.apply === undefined ? {} : {
    apply: (grads: Params.ParamMap, state: Optimizer.OptState, params: Params.ParamMap) => {
      const [next, slots] = transform.apply!(grads, state.slots, params, state.count)
      return [next, { count: state.count + 1, slots }] as const
    }
  })
})
