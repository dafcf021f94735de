/** Shared fixtures of the recycling tests: stages from the built-in plugins and a tiny training state. */
import { Key, type Optimizer } from "@rekindle/core"
import type { ModelConfig } from "@rekindle/model"
import { adam } from "@rekindle/plugin-optim"
import { initial } from "@rekindle/plugin-reinit"
import { magnitudeSmallest } from "@rekindle/plugin-select"
import { disposeState, tinyBatch, tinyModel, tinyOptState, tinyParams } from "@rekindle/testing"
import * as tf from "@tensorflow/tfjs-core"
import * as Stage from "../src/Stage.ts"

/** A stage with sensible defaults (magnitude-smallest, initial, zero-moments, every 10 from 0). */
export const stage = (fields: Partial<Stage.StageFields> = {}): Stage.Stage =>
  Stage.make({ criterion: ["select/magnitude-smallest", magnitudeSmallest()], reinit: ["reinit/initial", initial()], ...fields })

/** A tiny model with Variables, an optimizer, a non-trivial optimizer state and a probe batch. */
export const world = (config: Partial<ModelConfig> = {}, optimizer: Optimizer.Optimizer = adam({ lr: 1e-2 }), seed = 1) => {
  const model = tinyModel(config)
  const values = tinyParams(model, seed)
  const params: Record<string, tf.Variable> = {}
  for (const [name, t] of Object.entries(values)) {
    params[name] = tf.variable(t, true, `recycling-test-${seed}-${Math.random().toString(36).slice(2)}/${name}`)
    t.dispose()
  }
  let opt = tinyOptState(optimizer, params, 3, seed)
  const probe = tinyBatch(model.config, seed, 4)
  return {
    model,
    params,
    optimizer,
    probe,
    root: Key.make(seed),
    get opt() {
      return opt
    },
    /** Installs a new optimizer state, disposing what the old one held alone. */
    setOpt(next: Optimizer.OptState) {
      if (next === opt) return
      const keep = new Set(Object.values(next.slots).flatMap((s) => Object.values(s)))
      for (const t of Object.values(opt.slots).flatMap((s) => Object.values(s))) if (!keep.has(t)) t.dispose()
      opt = next
    },
    read: (name: string) => params[name]!.arraySync(),
    dispose() {
      for (const v of Object.values(params)) v.dispose()
      disposeState(opt)
      probe.inputIds.dispose()
      probe.targetIds.dispose()
      probe.targetPositions.dispose()
    }
  }
}

/** A world's values as plain arrays (for before/after comparisons). */
export const snapshotParams = (params: Record<string, tf.Tensor>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(params).map(([n, t]) => [n, t.arraySync()]))
