/**
 * Resolves a user corpus path (a file, or a folder of files) to the list of files to read,
 * failing with a `UserError` naming `data.corpus.path` when nothing is there.
 */
import { UserError } from "@rekindle/core"
import { Effect } from "effect"
import { FileSystem } from "effect/FileSystem"
import { Path } from "effect/Path"

/** The files behind `data.corpus.path`: the file itself, or the folder's matching files sorted by name. */
export const sourceFiles = (
  given: string,
  matches: (name: string) => boolean,
  expected: string
): Effect.Effect<ReadonlyArray<string>, UserError, FileSystem | Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem
    const path = yield* Path
    const file = path.resolve(given)
    const problem = (message: string) => new UserError({ message: `data.corpus.path: ${message}` })
    const info = yield* fs.stat(file).pipe(
      Effect.mapError((e) =>
        problem(e.reason._tag === "NotFound" ? `no such file or folder: ${file}` : `cannot read ${file} (${e.message})`)
      )
    )
    if (info.type !== "Directory") return [file]
    const names = yield* fs.readDirectory(file).pipe(Effect.mapError((e) => problem(`cannot list ${file} (${e.message})`)))
    const chosen = names.filter(matches).sort()
    if (chosen.length === 0) return yield* problem(`the folder ${file} has no ${expected} files`)
    return chosen.map((n) => path.join(file, n))
  })
