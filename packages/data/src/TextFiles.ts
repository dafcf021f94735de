/**
 * Plain-text corpora: a `.txt` file or a folder of them. Documents are blank-line-separated
 * paragraphs (default) or whole files.
 */
import { UserError } from "@rekindle/core"
import { Effect } from "effect"
import { FileSystem } from "effect/FileSystem"
import type { Path } from "effect/Path"
import { sourceFiles } from "./SourceFiles.ts"

/** Splits text into paragraphs at blank lines; whitespace inside a paragraph is collapsed to single spaces. */
const paragraphs = (text: string): Array<string> =>
  text.split(/\r?\n[ \t]*\r?\n/).map((p) => p.replace(/\s+/g, " ").trim()).filter((p) => p.length > 0)

/** Reads documents from `.txt` files at `path` (a file or a folder). */
export const readTextDocuments = (
  path: string,
  options: { readonly perFile: boolean; readonly maxDocuments?: number }
): Effect.Effect<Array<string>, UserError, FileSystem | Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem
    const files = yield* sourceFiles(path, (n) => n.endsWith(".txt"), ".txt")
    const limit = options.maxDocuments ?? Infinity
    const docs: Array<string> = []
    for (const file of files) {
      if (docs.length >= limit) break
      const text = yield* fs.readFileString(file).pipe(
        Effect.mapError((e) => new UserError({ message: `data.corpus.path: cannot read ${file} (${e.message})` }))
      )
      if (options.perFile) {
        const trimmed = text.trim()
        if (trimmed.length > 0) docs.push(trimmed)
      } else {
        for (const p of paragraphs(text)) docs.push(p)
      }
    }
    return docs.slice(0, limit)
  })
