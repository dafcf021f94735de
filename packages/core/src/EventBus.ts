/**
 * The run's event bus: every event goes to every sink in order. A sink that fails is dropped with
 * one `warning:` line on stderr, unless it is `required` (events.jsonl), in which case the run
 * fails; either way the failure is said in words (`the disk is full (ENOSPC: ...)`).
 */
import type * as Event from "./Event.ts"
import { RunError, type SinkError } from "./Errors.ts"
import * as FileErrors from "./FileErrors.ts"
import type { Sink } from "./Sink.ts"
import { Console, Context, Effect } from "effect"

/** Emits events to the run's sinks. */
export class EventBus extends Context.Service<EventBus, {
  readonly emit: (event: Event.Event) => Effect.Effect<void, RunError>
  readonly flush: Effect.Effect<void, RunError>
}>()("@rekindle/core/EventBus") {
  /**
   * An event bus over the given sinks. `step` names the step in a failure message; `onRemoved` is
   * told the warning of each optional sink it drops (e.g. for the run's manifest).
   */
  static readonly make = (sinks: ReadonlyArray<Sink>, onRemoved?: (warning: string) => void) =>
    Effect.sync(() => {
      let active = [...sinks]
      const guard = (sink: Sink, eff: Effect.Effect<void, SinkError>, step: number) =>
        eff.pipe(
          Effect.catchCause((cause) => {
            if (sink.required) return Effect.fail(new RunError({ step, message: `sink ${sink.name} failed: ${FileErrors.describeCause(cause)}` }))
            const warning = `sink ${sink.name} failed and was removed: ${FileErrors.describeCause(cause)}`
            return Console.error(`warning: ${warning}`).pipe(
              Effect.andThen(Effect.sync(() => {
                active = active.filter((s) => s !== sink)
                onRemoved?.(warning)
              }))
            )
          })
        )
      return EventBus.of({
        emit: (event) =>
          Effect.forEach(active, (sink) => guard(sink, sink.write(event), "step" in event ? event.step : 0), {
            discard: true
          }),
        // suspended: the sinks still active when it runs (a removed sink is not flushed again)
        flush: Effect.suspend(() => Effect.forEach(active, (sink) => guard(sink, sink.flush, 0), { discard: true }))
      })
    })

  /** An event bus that collects events in memory (tests). */
  static readonly memory = () => {
    const events: Array<Event.Event> = []
    const bus = EventBus.of({
      emit: (event) => Effect.sync(() => void events.push(event)),
      flush: Effect.void
    })
    return { bus, events }
  }
}
