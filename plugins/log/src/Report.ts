/**
 * `log/report`: at every flush (checkpoints and the end of the run, failed runs included) writes a
 * self-contained `report.html` into the run folder. It reads the run's events from events.jsonl
 * (so a resumed run's report covers the steps before the resume too), or from the events it saw
 * when the run has no events.jsonl. The page shows loss curves,
 * magnitude-histogram evolution per FF layer, recycling, activation statistics, the comparison
 * numbers and the pipeline. `rekindle report <run-folder>` renders the same page from
 * events.jsonl (both go through `@rekindle/report`).
 */
import { Event, Plugin, PluginError, RunLocation, type Sink, SinkError } from "@rekindle/core"
import { Data, Html, Write } from "@rekindle/report"
import { Effect, FileSystem, Path, Schema } from "effect"

/** Options of `log/report`. */
export const ReportOptions = Schema.Struct({
  file: Schema.String.pipe(
    Schema.check(Schema.isPattern(/^[^/\\]+\.html$/, { expected: "a file name ending in .html (no folders)" })),
    Schema.annotate({ description: "File name of the report inside the run folder" }),
    Schema.withDecodingDefaultKey(Effect.succeed(Write.fileName))
  )
})

/** Builds the report sink for the current run folder. */
export const make = (options: { readonly file: string }) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const run = yield* RunLocation
    const readJson = (name: string) =>
      fs.readFileString(path.join(run.path, name)).pipe(
        Effect.map((text) => JSON.parse(text) as unknown),
        Effect.orElseSucceed(() => undefined)
      )
    const pipeline = yield* readJson("pipeline.json")
    const events: Array<Event.Event> = []
    let written = 0
    const sink: Sink = {
      name: "log/report",
      required: false,
      write: (event) => Effect.sync(() => void events.push(event)),
      flush: Effect.gen(function*() {
        if (events.length === written) return
        const manifest = yield* readJson("manifest.json")
        const file = yield* fs.readFileString(path.join(run.path, "events.jsonl")).pipe(Effect.option)
        const all = file._tag === "Some" ? Event.decodeLines(file.value) : events
        const data = Data.fromEvents(all.length >= events.length ? all : events, {
          folder: path.basename(run.path),
          ...(pipeline !== undefined ? { pipeline } : {}),
          ...(manifest !== undefined ? { manifest } : {})
        })
        yield* Write.writeAtomic(path.join(run.path, options.file), Html.render(data))
        written = events.length
      }).pipe(
        Effect.provideService(FileSystem.FileSystem, fs),
        Effect.provideService(Path.Path, path),
        Effect.mapError(SinkError.from("log/report"))
      )
    }
    return sink
  }).pipe(Effect.mapError((e) => new PluginError({ part: "log/report", message: String(e) })))

/** The `log/report` part. */
export const part = Plugin.part<"sinks">()({
  description: "A self-contained report.html in the run folder (loss curves, magnitude histograms, recycling, activations, pipeline), rewritten at each flush.",
  options: ReportOptions,
  make: (options) => make(options)
})
