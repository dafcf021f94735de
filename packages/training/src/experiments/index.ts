/**
 * The reference study's experiments beyond recycling, as trainer hooks: gradual pruning
 * (`Pruning`), retraining a subset of neurons (`Retrain`) and the midpoint loss (`MidpointLoss`).
 * `hooks` builds the hooks a plan asks for inside the run's scope (their tensors are released
 * when it closes). See docs/recycling.md.
 */
import type { Key, StepHook } from "@rekindle/core"
import type { BatchTensors, Transformer } from "@rekindle/model"
import { Effect } from "effect"
import type { RunPlan } from "../RunPlan.ts"
import * as MidpointLoss from "./MidpointLoss.ts"
import * as Pruning from "./Pruning.ts"
import * as Retrain from "./Retrain.ts"

export { MidpointLoss, Pruning, Retrain }

/** The step hooks of a plan's experiments (pruning, retraining, midpoint loss), in that order. */
export const hooks = (
  plan: Pick<RunPlan, "pruning" | "retrain" | "midpointLoss" | "train">,
  context: { readonly model: Transformer.Transformer; readonly key: Key.Key; readonly probe?: BatchTensors }
) =>
  Effect.gen(function*() {
    const out: Array<StepHook> = []
    if (plan.pruning !== undefined) {
      const pruning = plan.pruning
      const pruner = yield* Effect.acquireRelease(
        Effect.sync(() => Pruning.make({ model: context.model, pruning, key: context.key, ...(context.probe !== undefined ? { probe: context.probe } : {}) })),
        (p) => Effect.sync(() => p.dispose())
      )
      out.push(Pruning.hook(pruner))
    }
    if (plan.retrain !== undefined) {
      const retrain = plan.retrain
      const retrainer = yield* Effect.acquireRelease(
        Effect.sync(() => Retrain.make({ retrain, topology: context.model.topology, key: context.key })),
        (r) => Effect.sync(() => r.dispose())
      )
      out.push(Retrain.hook(retrainer))
    }
    if (plan.midpointLoss !== undefined) out.push(MidpointLoss.hook(plan.midpointLoss, context.model.topology, plan.train.logEvery))
    return out
  })
