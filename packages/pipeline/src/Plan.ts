/**
 * The schedule of a resolved pipeline, computed from the pipeline alone: at which steps each
 * recycling stage fires, when evaluations and checkpoints happen, and how many neurons each
 * recycling event touches (k = round(fraction * dFF) per layer, or round(fraction * dFF * layers)
 * over all layers in global scope).
 */
import { firingSteps } from "@rekindle/recycling"
import { runLength } from "./Compile.ts"
import type { Resolved } from "./Resolve.ts"

/** One stage's schedule. */
export interface StagePlan {
  readonly index: number
  readonly criterion: string
  readonly reinit: string
  readonly scope: "per-layer" | "global"
  readonly fraction: number
  /** Steps (0-based update counts) at which the stage fires, before that step's update. */
  readonly firing: ReadonlyArray<number>
  /** Neurons chosen per layer per event (per-layer scope). */
  readonly kPerLayer: number
  /** Neurons chosen per event, over all layers. */
  readonly kTotal: number
}

/** What one step hook will do (its part's own description). */
export interface HookPlan {
  readonly id: string
  readonly summary: string
  readonly rows: ReadonlyArray<string>
}

/** A pipeline's schedule. */
export interface SchedulePlan {
  /** Steps the run trains (`train.steps`, or `retrain.at + retrain.steps` when retraining stops the run). */
  readonly steps: number
  readonly layers: number
  readonly dFF: number
  /** Steps after which an evaluation runs (1-based: after that many updates). */
  readonly evals: ReadonlyArray<number>
  /** Steps after which a checkpoint is written. */
  readonly checkpoints: ReadonlyArray<number>
  readonly stages: ReadonlyArray<StagePlan>
  /** The step hooks, in pipeline order. */
  readonly hooks: ReadonlyArray<HookPlan>
}

const every = (n: number, steps: number): Array<number> => {
  const out: Array<number> = []
  if (n > 0) for (let s = n; s <= steps; s += n) out.push(s)
  return out
}

/** The schedule of a resolved pipeline. */
export const schedule = (resolved: Resolved): SchedulePlan => {
  const { model } = resolved.spec
  const train = { ...resolved.spec.train, steps: runLength(resolved) }
  const evals = every(train.evalEvery, train.steps)
  if (evals.at(-1) !== train.steps) evals.push(train.steps)
  const checkpoints = every(train.checkpointEvery, train.steps)
  if (train.checkpointEvery > 0 && checkpoints.at(-1) !== train.steps) checkpoints.push(train.steps)
  return {
    steps: train.steps,
    layers: model.layers,
    dFF: model.dFF,
    evals,
    checkpoints,
    stages: resolved.stages.map((s) => {
      const kPerLayer = Math.round(s.fraction * model.dFF)
      return {
        index: s.index,
        criterion: s.select.id,
        reinit: s.reinit.id,
        scope: s.scope,
        fraction: s.fraction,
        firing: firingSteps(s.schedule, train.steps),
        kPerLayer,
        kTotal: s.scope === "global" ? Math.round(s.fraction * model.dFF * model.layers) : kPerLayer * model.layers
      }
    }),
    hooks: resolved.hooks.map((h) => {
      const d = h.part.describe(train.steps)
      return { id: h.id, summary: d.summary, rows: d.rows ?? [] }
    })
  }
}
