/**
 * `log/console`: a concise progress display. On a terminal it redraws one progress line (step,
 * loss, tokens/s, ETA); otherwise it prints one line per logged step. Evaluations, recycling
 * summaries and the end of the run get their own lines.
 */
import { Plugin, type Event, type Sink } from "@rekindle/core"
import { Effect, Schema } from "effect"

/** Options of `log/console`. */
export const ConsoleOptions = Schema.Struct({
  every: Schema.Int.pipe(
    Schema.check(Schema.isGreaterThan(0)),
    Schema.annotate({ description: "Print at most one training line per this many logged steps" }),
    Schema.withDecodingDefaultKey(Effect.succeed(1))
  )
})

const fmtDuration = (seconds: number): string => {
  if (!Number.isFinite(seconds) || seconds < 0) return "?"
  const s = Math.round(seconds)
  const m = Math.floor(s / 60)
  return m > 0 ? `${m}m${String(s % 60).padStart(2, "0")}s` : `${s}s`
}

const bar = (done: number, total: number, width = 20): string => {
  const n = Math.max(0, Math.min(width, Math.round((done / Math.max(1, total)) * width)))
  return "█".repeat(n) + "░".repeat(width - n)
}

/** Renders one event as console text (exported for tests); `undefined` = print nothing. */
export const render = (event: Event.Event, state: { total: number; started: number; now: number }): string | undefined => {
  switch (event._tag) {
    case "RunStarted":
      return `rekindle ${event.run}: ${event.steps} steps, ${(event.parameters / 1e6).toFixed(2)}M parameters, ` +
        `backend ${event.backend.name} (${event.backend.threads} thread${event.backend.threads === 1 ? "" : "s"}${event.backend.simd ? ", simd" : ""})`
    case "TrainStep": {
      const elapsed = (state.now - state.started) / 1000
      const eta = (elapsed / event.step) * (state.total - event.step)
      return `${bar(event.step, state.total)} step ${String(event.step).padStart(String(state.total).length)}/${state.total}  ` +
        `loss ${event.loss.toFixed(4)}  ${Math.round(event.tokensPerSec)} tok/s  ETA ${fmtDuration(eta)}`
    }
    case "Eval":
      return `eval @ ${event.step}: loss ${event.loss.toFixed(4)}  accuracy ${(event.accuracy * 100).toFixed(1)}%`
    case "Recycle":
      return event.layer === 0 || event.k > 0
        ? `recycle @ ${event.step} stage ${event.stage} layer ${event.layer}: ${event.indices.length} neurons (${event.criterion} -> ${event.reinit})`
        : undefined
    case "RunFinished":
      // the losses are the final summary, which the caller (e.g. `rekindle run`, on stdout) prints once
      return `done: ${event.step} steps in ${fmtDuration((state.now - state.started) / 1000)}`
    case "RunFailed":
      return `FAILED at step ${event.step}: ${event.message}`
    case "Checkpoint":
      return `checkpoint @ ${event.step}`
    default:
      return undefined
  }
}

/** Builds the console sink writing to `out` (stderr by default). */
export const make = (options: { readonly every: number }, out: NodeJS.WriteStream = process.stderr) =>
  Effect.sync(() => {
    const tty = out.isTTY === true
    const state = { total: 0, started: Date.now(), now: Date.now() }
    let logged = 0
    let pending = false
    const line = (s: string, transient: boolean) => {
      if (tty) {
        out.write(`\r\x1b[2K${s}${transient ? "" : "\n"}`)
        pending = transient
      } else out.write(s + "\n")
    }
    const sink: Sink = {
      name: "log/console",
      required: false,
      write: (event) =>
        Effect.sync(() => {
          state.now = Date.now()
          if (event._tag === "RunStarted") {
            state.total = event.steps
            state.started = state.now
          }
          if (event._tag === "TrainStep" && logged++ % options.every !== 0) return
          const text = render(event, state)
          if (text === undefined) return
          if (pending && event._tag !== "TrainStep") out.write("\n")
          line(text, event._tag === "TrainStep")
        }),
      flush: Effect.sync(() => {
        if (pending) out.write("\n")
        pending = false
      })
    }
    return sink
  })

/** The `log/console` part. */
export const part = Plugin.part<"sinks">()({
  description: "Progress on the terminal: step, loss, tokens/s and ETA; evaluations and recycling summaries.",
  options: ConsoleOptions,
  make: (options) => make(options)
})
