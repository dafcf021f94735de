/** Every optimizer-state policy with every optimizer: what the slots hold on and off the recycled slices. */
import { type Optimizer, Slices, Slots } from "@rekindle/core"
import { adam, adamw, sgd } from "@rekindle/plugin-optim"
import "@tensorflow/tfjs-backend-cpu"
import * as tf from "@tensorflow/tfjs-core"
import { beforeAll, describe, expect, it } from "vitest"
import * as Recycler from "../src/Recycler.ts"
import { neuronSlices } from "../src/Apply.ts"
import type { Stage } from "../src/Stage.ts"
import { stage, world } from "./helpers.ts"

beforeAll(async () => {
  await tf.setBackend("cpu")
})

const optimizers: Record<string, () => Optimizer.Optimizer> = {
  "sgd (momentum)": () => sgd({ lr: 0.1, momentum: 0.9 }),
  adam: () => adam({ lr: 1e-2 }),
  adamw: () => adamw({ lr: 1e-2, weightDecay: 0.1 })
}
const policies: ReadonlyArray<Stage["optimizerState"]> = ["keep", "zero-moments", "zero-moments-and-step"]

const copyState = (s: Optimizer.OptState): Optimizer.OptState => ({
  count: s.count,
  slots: Object.fromEntries(Object.entries(s.slots).map(([k, m]) => [k, Object.fromEntries(Object.entries(m).map(([p, t]) => [p, tf.clone(t)]))]))
})

describe.each(Object.keys(optimizers))("optimizer-state policies with %s", (name) => {
  it.each(policies)("%s", (policy) => {
    const w = world({}, optimizers[name]!())
    const before = copyState(w.opt)
    const r = Recycler.make({ model: w.model, stages: [stage({ optimizerState: policy })], key: w.root, lineageEvents: false })
    const out = r.runDue(0, { params: w.params, opt: w.opt, optimizer: w.optimizer })
    const recycled = out.events.filter((e) => e._tag === "Recycle")
    const selection = { layers: recycled.map((e) => (e._tag === "Recycle" ? { layer: e.layer, indices: e.indices, scores: e.scores } : never())) }
    const slices = neuronSlices(w.model.topology, selection)
    expect(slices.length).toBeGreaterThan(0)
    if (policy === "keep") expect(out.opt).toBe(w.opt)
    w.setOpt(out.opt)
    const roles = Slots.rolesOf(policy)
    expect(out.opt.count).toBe(before.count)
    for (const [slotName, spec] of Object.entries(w.optimizer.slots)) {
      for (const [param, old] of Object.entries(before.slots[slotName]!)) {
        const now = out.opt.slots[slotName]![param]!
        const slice = slices.find((s) => s.param === param)
        const changed = Array.from(tf.tidy(() => Slices.changedAlong(old, now, slice?.axis ?? 0).dataSync()))
        const resets = slice !== undefined && roles.has(spec.role)
        changed.forEach((c, i) => {
          if (!resets || !slice.indices.includes(i)) expect(c, `${slotName} ${param} ${i}`).toBe(0)
        })
        if (resets) {
          const values = tf.tidy(() => Array.from(Slices.gatherAlong(now, slice.axis, slice.indices).dataSync()))
          expect(values.every((v) => v === spec.reset), `${slotName} ${param}`).toBe(true)
          // the slots held other values before, so the reset is visible
          expect(changed.some((c) => c > 0), `${slotName} ${param} changed`).toBe(true)
        }
      }
    }
    const hasStep = Object.values(w.optimizer.slots).some((s) => s.role === "step")
    expect(hasStep).toBe(name !== "sgd (momentum)")
    for (const t of Object.values(before.slots).flatMap((m) => Object.values(m))) t.dispose()
    r.dispose()
    w.dispose()
  })
})

const never = (): never => {
  throw new Error("unreachable")
}
