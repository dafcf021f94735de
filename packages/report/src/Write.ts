/**
 * Writing reports: `report.html` in a run folder, a study folder (and each of its runs), or a
 * magnitudes folder. Files are written atomically and durably (fsynced temporary file renamed
 * over the target, folder fsynced), so a reader never sees half a report.
 */
import { Files, UserError } from "@rekindle/core"
import { Effect, FileSystem, Path } from "effect"
import * as Data from "./Data.ts"
import * as Html from "./Html.ts"
import type { MagnitudesData } from "./Pretrained.ts"

/** The report's file name inside a folder. */
export const fileName = "report.html"

/** Writes text to `file` atomically and durably (core's `Files.writeTextAtomic`). */
export const writeAtomic = (file: string, text: string) =>
  Files.writeTextAtomic(file, text).pipe(Effect.mapError((e) => new UserError({ message: `${file}: cannot write the report (${e.message})` })))

/** Renders `data` into `<dir>/report.html`; returns the file. */
export const writeData = (dir: string, data: Html.ReportData) =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    const file = path.join(path.resolve(dir), fileName)
    yield* writeAtomic(file, Html.render(data))
    return file
  })

/** Writes a run folder's report from its files. */
export const writeRun = (dir: string) => Effect.flatMap(Data.readRun(dir), (data) => writeData(dir, data))

/** Writes a study folder's report, and (with `runs`, the default) every run's own report. */
export const writeStudy = (dir: string, options: { readonly runs?: boolean } = {}) =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    const data = yield* Data.readStudy(dir)
    const written: Array<string> = []
    if (options.runs ?? true) {
      for (const v of data.variants) if (v.run !== null) written.push(yield* writeData(path.join(dir, v.folder), v.run))
    }
    written.unshift(yield* writeData(dir, data))
    return written
  })

/** Writes a magnitudes folder's report from its `magnitudes.json`. */
export const writeMagnitudes = (dir: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const file = path.join(dir, "magnitudes.json")
    const text = yield* fs.readFileString(file).pipe(Effect.mapError((e) => new UserError({ message: `${file}: ${e.message}` })))
    const data = yield* Effect.try({
      try: () => JSON.parse(text) as MagnitudesData,
      catch: () => new UserError({ message: `${file}: not valid JSON` })
    })
    if (data?.kind !== "magnitudes" || !Array.isArray(data.layers)) return yield* new UserError({ message: `${file}: not a magnitudes file` })
    return yield* writeData(dir, data)
  })

/** (Re)writes the report(s) of whatever `dir` holds; returns the files written (the folder's own first). */
export const write = (dir: string) =>
  Effect.gen(function*() {
    const kind = yield* Data.detect(dir)
    if (kind === "run") return [yield* writeRun(dir)]
    if (kind === "magnitudes") return [yield* writeMagnitudes(dir)]
    return yield* writeStudy(dir)
  })
