/**
 * The run's sinks and event bus, as a service: the pipeline's sinks acquired in the run's scope
 * (they find the folder through `RunLocation`), the event bus over them counting the lines of
 * events.jsonl (from the checkpoint's count on resume), and the warnings the manifest records (a
 * backend that gave fewer threads, an optional sink that failed and was dropped). The bus is
 * flushed when the layer's scope closes. A sink that cannot be acquired fails the layer; in a fresh
 * run it also removes the folder the session had just created, so nothing is left half-written.
 */
import { type BackendInfo, EventBus, type PluginError, RunLocation } from "@rekindle/core"
import { Engine } from "@rekindle/engine"
import { ClaimedFolder } from "@rekindle/run"
import { Context, Effect, FileSystem, Layer, type Path } from "effect"
import type { RunPlan } from "./RunPlan.ts"
import { type Counted, counted, RunSession } from "./Session.ts"

/** The manifest's warning for a backend that runs fewer threads than asked for, if it does. */
const fallbackWarning = (info: BackendInfo, asked: number | undefined): ReadonlyArray<string> =>
  info.fallback !== undefined
    ? [`${info.name} ran on ${info.threads} thread${info.threads === 1 ? "" : "s"}, not the ${asked ?? "all available"} asked for: ${info.fallback}`]
    : []

/** The run's events: the counted bus over its sinks, and the warnings so far. */
export class RunEvents extends Context.Service<RunEvents, {
  /** The event bus, counting the lines of events.jsonl. */
  readonly events: Counted
  /** `{ warnings }` for the manifest when there are any, else `{}`. */
  readonly warned: () => { readonly warnings?: ReadonlyArray<string> }
}>()("@rekindle/training/RunEvents") {
  /** Acquires the plan's sinks in the claimed folder, after the session opened it. */
  static readonly layer = (
    plan: Pick<RunPlan, "sinks" | "backend">
  ): Layer.Layer<RunEvents, PluginError, ClaimedFolder | Engine | RunSession | FileSystem.FileSystem | Path.Path> =>
    Layer.effect(
      RunEvents,
      Effect.gen(function*() {
        const { claim } = yield* ClaimedFolder
        const { dir } = claim
        const { info } = yield* Engine
        const session = yield* RunSession
        const fs = yield* FileSystem.FileSystem
        // a sink that cannot be acquired ends a fresh run before its first event: its new folder goes too
        const sinks = yield* Effect.forEach(plan.sinks, (s) => s.acquire).pipe(
          Effect.provide(RunLocation.layer(dir)),
          Effect.tapError(() => (claim._tag === "Fresh" ? fs.remove(dir, { recursive: true }).pipe(Effect.ignore) : Effect.void))
        )
        // a backend fallback and failures of optional sinks (dropped by the bus with a warning) are recorded in the manifest
        const warnings: Array<string> = [...fallbackWarning(info, plan.backend.threads)]
        const events = counted(yield* EventBus.make(sinks, (w) => void warnings.push(w)), session.eventsSoFar)
        yield* Effect.addFinalizer(() => events.bus.flush.pipe(Effect.ignore))
        return RunEvents.of({ events, warned: () => (warnings.length > 0 ? { warnings: [...warnings] } : {}) })
      })
    )
}
