/**
 * The recycler as a trainer step hook (with its checkpoint state). The hook runs, before each
 * update: `observe`, `runDue` (installing the new optimizer state in the loop and emitting the
 * events) and returns `forwardOptions` for the step's loss.
 */
import { EventBus, type HookState, RunError, type StepHook } from "@rekindle/core"
import type { BatchTensors } from "@rekindle/model"
import { Effect } from "effect"
import * as Recycler from "./Recycler.ts"

/**
 * A trainer hook driving the recycler. `probe` gives the probe batch for a step (default: the
 * recycler's own); it is only asked when a criterion needs activations.
 */
export const hook = (recycler: Recycler.Recycler, probe?: (step: number) => BatchTensors | undefined): StepHook => ({
  before: (step, loop) =>
    Effect.gen(function*() {
      const events = yield* EventBus
      const result = yield* Effect.try({
        try: () => {
          const batch = recycler.needsProbe ? probe?.(step) : undefined
          recycler.observe(step, loop.params, batch)
          const before = loop.optState()
          const r = recycler.runDue(step, {
            params: loop.params,
            opt: before,
            optimizer: loop.optimizer,
            ...(batch !== undefined ? { probe: batch } : {})
          })
          if (r.opt !== before) loop.setOptState(r.opt)
          return r
        },
        catch: RunError.from(step, "recycling")
      })
      for (const e of result.events) yield* events.emit(e)
      return recycler.forwardOptions(step)
    })
})

/** The recycler's state as a hook state (snapshot JSON + blend tensors), for checkpoints. */
export const state = (recycler: Recycler.Recycler): HookState => ({
  name: "recycling",
  save: () => ({ json: recycler.snapshot(), tensors: recycler.blendTensors() }),
  load: (json, tensors) => recycler.restore(json as Recycler.RecyclerSnapshot, tensors)
})
