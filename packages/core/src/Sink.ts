/**
 * Sinks receive every event of a run (console, events.jsonl, TensorBoard, HTML report). A sink is
 * acquired in a Scope by its plugin's `make`; `flush` runs at checkpoints and at the end. A failing
 * sink is logged and dropped unless it is `required` (events.jsonl is).
 */
import type { Effect } from "effect"
import type { SinkError } from "./Errors.ts"
import type { Event } from "./Event.ts"

/** An event consumer. */
export interface Sink {
  readonly name: string
  /** When true, a failure of this sink fails the run. */
  readonly required: boolean
  readonly write: (event: Event) => Effect.Effect<void, SinkError>
  readonly flush: Effect.Effect<void, SinkError>
}
