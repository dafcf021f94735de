/**
 * `log/jsonl`: appends every event to `events.jsonl` in the run folder, one JSON object per line.
 * Each line is written with a single append, so a crash can tear at most the last line (readers
 * detect and drop a torn last line, and opening the file for appending cuts it, so a resumed run
 * never glues new events onto a fragment). This sink is required: if it fails, the run fails.
 */
import { Event, Plugin, PluginError, RunLocation, type Sink, SinkError } from "@rekindle/core"
import { Effect, FileSystem, Path, Schema } from "effect"

/** Options of `log/jsonl`. */
export const JsonlOptions = Schema.Struct({
  file: Schema.String.pipe(
    Schema.annotate({ description: "File name inside the run folder" }),
    Schema.withDecodingDefaultKey(Effect.succeed("events.jsonl"))
  )
})

/** Opens the events file for appending inside the current scope. */
export const make = (options: { readonly file: string }) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const dir = yield* RunLocation
    const name = path.join(dir.path, options.file)
    const existing = yield* fs.readFile(name).pipe(Effect.orElseSucceed(() => new Uint8Array()))
    const complete = existing.lastIndexOf(0x0a) + 1
    if (complete < existing.length) yield* fs.truncate(name, complete)
    const file = yield* fs.open(name, { flag: "a" })
    const encoder = new TextEncoder()
    let size = complete
    const sink: Sink = {
      name: "log/jsonl",
      required: true,
      // a line that could not be written whole (a full disk) is cut off again: no torn line mid-file
      write: (event) => {
        const bytes = encoder.encode(Event.encodeLine(event) + "\n")
        return file.writeAll(bytes).pipe(
          Effect.tap(() => Effect.sync(() => void (size += bytes.length))),
          Effect.tapError(() => fs.truncate(name, size).pipe(Effect.ignore)),
          Effect.mapError(SinkError.from("log/jsonl"))
        )
      },
      flush: file.sync.pipe(Effect.mapError(SinkError.from("log/jsonl")))
    }
    return sink
  }).pipe(Effect.mapError((e) => new PluginError({ part: "log/jsonl", message: e.message })))

/** The `log/jsonl` part. */
export const part = Plugin.part<"sinks">()({
  description: "Writes every event to events.jsonl in the run folder (one JSON object per line).",
  options: JsonlOptions,
  make: (options) => make(options)
})
