/**
 * JSON-lines corpora: one JSON object per line with a text field; a file or a folder of shards.
 * Files ending in `.gz` (C4's `c4-train.00000-of-01024.json.gz`) are gunzipped while streaming
 * (node:zlib), so a shard is never held in memory as bytes, and reading stops at `maxDocuments`.
 */
import { createReadStream } from "node:fs"
import { createInterface } from "node:readline"
import { createGunzip } from "node:zlib"
import { UserError } from "@rekindle/core"
import { Effect } from "effect"
import type { FileSystem } from "effect/FileSystem"
import type { Path } from "effect/Path"
import { sourceFiles } from "./SourceFiles.ts"

/** File names read from a JSON-lines folder: `.jsonl`, `.json`, and their `.gz` forms. */
const isJsonLinesFile = (name: string): boolean => /\.(jsonl|json)(\.gz)?$/.test(name)

/** Thrown inside the streaming reader to stop with a user-facing problem. */
class LineProblem extends Error {}

const readOne = async (file: string, field: string, docs: Array<string>, limit: number): Promise<void> => {
  const raw = createReadStream(file)
  const input = file.endsWith(".gz") ? raw.pipe(createGunzip()) : raw
  const lines = createInterface({ input, crlfDelay: Infinity })
  let lineNo = 0
  try {
    for await (const line of lines) {
      lineNo++
      if (line.trim().length === 0) continue
      let value: unknown
      try {
        value = JSON.parse(line)
      } catch {
        throw new LineProblem(`data.corpus.path: ${file}:${lineNo} is not valid JSON`)
      }
      const text = typeof value === "object" && value !== null ? (value as Record<string, unknown>)[field] : undefined
      if (typeof text !== "string") {
        throw new LineProblem(`data.corpus.field: ${file}:${lineNo} has no string field "${field}"`)
      }
      const trimmed = text.trim()
      if (trimmed.length > 0) docs.push(trimmed)
      if (docs.length >= limit) break
    }
  } finally {
    lines.close()
    raw.destroy()
    if (input !== raw) input.destroy()
  }
}

/** Reads the `field` of every line of the JSON-lines file(s) at `path`, up to `maxDocuments`. */
export const readJsonLines = (
  path: string,
  field: string,
  maxDocuments?: number
): Effect.Effect<Array<string>, UserError, FileSystem | Path> =>
  Effect.gen(function*() {
    const files = yield* sourceFiles(path, isJsonLinesFile, ".jsonl/.json/.jsonl.gz/.json.gz")
    const limit = maxDocuments ?? Infinity
    const docs: Array<string> = []
    for (const file of files) {
      if (docs.length >= limit) break
      yield* Effect.tryPromise({
        try: () => readOne(file, field, docs, limit),
        catch: (e) =>
          new UserError({
            message: e instanceof LineProblem ? e.message : `data.corpus.path: cannot read ${file} (${String(e)})`
          })
      })
    }
    return docs
  })
