/**
 * The schedule of a resolved pipeline, computed from the pipeline alone: at which steps each
 * recycling stage fires, when evaluations and checkpoints happen, and how many neurons each
 * recycling event touches (k = round(fraction * dFF) per layer, or round(fraction * dFF * layers)
 * over all layers in global scope).
 */
import { firingSteps } from "@rekindle/recycling"
import { countFor, prunedCount, runLength, targetFraction, updateSteps } from "@rekindle/training"
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

/** When gradual pruning grows its mask and how far. */
export interface PruningPlan {
  readonly criterion: string
  readonly final: number
  /** Steps (before their update) at which the mask may grow, with the target fraction and pruned count per layer. */
  readonly updates: ReadonlyArray<{ readonly step: number; readonly fraction: number; readonly prunedPerLayer: number }>
}

/** The retraining window. */
export interface RetrainPlan {
  readonly subset: string
  /** First retraining step (before its update). */
  readonly at: number
  /** First step after retraining (normal training resumes here, or the run ends). */
  readonly until: number
  readonly neuronsPerLayer: number
  readonly lr: number
  readonly warmup: number
  readonly then: "continue" | "stop"
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
  readonly pruning?: PruningPlan
  readonly retrain?: RetrainPlan
  /** The midpoint loss settings, when the pipeline has one. */
  readonly midpointLoss?: { readonly coefficient: number; readonly p: 1 | 2; readonly center: "mean" | "median"; readonly log: boolean; readonly belowOnly: boolean }
}

const every = (n: number, steps: number): Array<number> => {
  const out: Array<number> = []
  if (n > 0) for (let s = n; s <= steps; s += n) out.push(s)
  return out
}

/** The schedule of a resolved pipeline. */
export const schedule = (resolved: Resolved): SchedulePlan => {
  const { model } = resolved.spec
  const r = resolved.retrain
  const train = { ...resolved.spec.train, steps: runLength(r === undefined ? undefined : { ...r.settings }, resolved.spec.train.steps) }
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
    ...(resolved.pruning !== undefined
      ? {
        pruning: {
          criterion: resolved.pruning.criterion.id,
          final: resolved.pruning.schedule.final,
          updates: updateSteps(resolved.pruning.schedule, train.steps).map((step) => ({
            step,
            fraction: targetFraction(resolved.pruning!.schedule, step),
            prunedPerLayer: prunedCount(resolved.pruning!.schedule, step, model.dFF)
          }))
        }
      }
      : {}),
    ...(r !== undefined
      ? {
        retrain: {
          subset: r.settings.subset,
          at: r.settings.at,
          until: r.settings.at + r.settings.steps,
          neuronsPerLayer: countFor(r.settings, model.dFF),
          lr: r.lr,
          warmup: r.settings.warmup,
          then: r.settings.then
        }
      }
      : {}),
    ...(resolved.midpointLoss !== undefined ? { midpointLoss: resolved.midpointLoss } : {})
  }
}
