/**
 * The run's step hooks, as a service, in the order the trainer runs them before each update: the
 * probes (so they see each step's state before that step's recycling), the signal host's hook
 * (measuring the signals parts asked for), the recycler, the pipeline's `hooks` parts in order,
 * then the host's extra hooks. The layer builds them once the model exists (`Workload`), so no
 * user error can leave anything on disk; the signal host and the recycler are disposed when the
 * layer's scope closes.
 */
import type { PluginError, RunError, StepHook, UserError } from "@rekindle/core"
import { Recycler, hook as recyclingHook, SignalConsumers, SignalHook, SignalHost, state as recyclingState } from "@rekindle/recycling"
import { Context, Effect, Layer } from "effect"
import * as ProbeHook from "./probes/Hook.ts"
import type { RunPlan } from "./RunPlan.ts"
import { attempt, Workload } from "./Workload.ts"

/** The run's step hooks. */
export class StepHooks extends Context.Service<StepHooks, {
  /** Every hook, in the order they run. */
  readonly hooks: ReadonlyArray<StepHook>
  /** The probe runner (also among `hooks`), for its run at the last step; absent without probes. */
  readonly probes: ProbeHook.ProbeHook | undefined
}>()("@rekindle/training/StepHooks") {
  /** Builds the plan's signals, recycling, hooks and probes, plus `extra` hooks from the host. */
  static readonly layer = (
    plan: Pick<RunPlan, "signals" | "recycling" | "hooks" | "probes" | "train">,
    extra: ReadonlyArray<StepHook> = []
  ): Layer.Layer<StepHooks, UserError | RunError | PluginError, Workload> =>
    Layer.effect(
      StepHooks,
      Effect.gen(function*() {
        const { model, probe, root } = yield* Workload
        const hooks: Array<StepHook> = []
        // the signals parts asked for, measured inside the steps (no host, no observer: nothing asked)
        const bound = plan.signals ?? []
        const signals = bound.length === 0 ? undefined : yield* Effect.acquireRelease(
          attempt(() => SignalHost.make({ topology: model.topology, config: model.config, bound, probe })),
          (h) => Effect.sync(() => h.dispose())
        )
        if (signals !== undefined) hooks.push(SignalHook.hook(signals))
        let recycling: Recycler.Recycler | undefined
        if (plan.recycling.length > 0) {
          const recycler = yield* Effect.acquireRelease(
            Effect.sync(() => Recycler.make({ model, stages: plan.recycling, key: root, probe, ...(signals !== undefined ? { signals } : {}) })),
            (r) => Effect.sync(() => r.dispose())
          )
          hooks.push({ ...recyclingHook(recycler), state: recyclingState(recycler) })
          recycling = recycler
        }
        // the pipeline's step hooks (hooks/pruning, hooks/retrain, ...), built now that the model exists
        for (const [i, h] of plan.hooks.entries()) {
          const consumer = SignalConsumers.hookConsumer(i)
          const read = signals !== undefined && signals.has(consumer) ? { signals: () => signals.read(consumer) } : {}
          hooks.push(yield* h.hook.build({ model, key: root, logEvery: plan.train.logEvery, probe, ...read }))
        }
        hooks.push(...extra)
        // probes run first, so they see each step's state before that step's recycling
        const probes = plan.probes.length === 0 ? undefined : ProbeHook.make({
          model,
          probes: plan.probes,
          batch: probe,
          ...(recycling !== undefined ? { lineage: recycling.lineageView, forward: recycling.forwardOptions } : {}),
          ...(signals !== undefined ? { signals } : {})
        })
        if (probes !== undefined) hooks.unshift(probes)
        return StepHooks.of({ hooks, probes })
      })
    )
}
