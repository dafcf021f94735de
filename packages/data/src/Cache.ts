/**
 * The data cache folder (default `.cache/rekindle/` under the working directory): content
 * hashes for cache keys, and atomic writes (write a temporary file beside the target, then
 * rename), so a crashed or concurrent run never leaves a half-written entry behind.
 */
import { createHash } from "node:crypto"
import { Files, UserError } from "@rekindle/core"
import { Effect } from "effect"
import { FileSystem } from "effect/FileSystem"
import { Path } from "effect/Path"

/** Default cache folder, relative to the working directory. */
export const defaultCacheDir = ".cache/rekindle"

/** Hex SHA-256 of some strings, each terminated by a NUL (so ["ab","c"] and ["a","bc"] differ). */
export const hashStrings = (parts: Iterable<string>): string => {
  const h = createHash("sha256")
  for (const p of parts) h.update(p).update("\0")
  return h.digest("hex")
}

const cacheProblem = (file: string, e: { readonly message: string }) =>
  new UserError({ message: `cache: cannot write ${file} (${e.message}); check the cache folder (cacheDir)` })

/** A unique temporary name beside `file`. */
export const temporaryName = (file: string): string =>
  `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`

/** Writes `file` atomically with `write(tmp)`, creating its folder first. */
export const writeAtomically = (
  file: string,
  write: (tmp: string) => Effect.Effect<void, UserError, FileSystem>
): Effect.Effect<void, UserError, FileSystem | Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem
    const path = yield* Path
    yield* fs.makeDirectory(path.dirname(file), { recursive: true }).pipe(Effect.mapError((e) => cacheProblem(file, e)))
    const tmp = temporaryName(file)
    yield* write(tmp).pipe(
      Effect.andThen(Files.commit(tmp, file).pipe(Effect.mapError((e) => cacheProblem(file, e)))),
      Effect.tapError(() => fs.remove(tmp, { force: true }).pipe(Effect.ignore))
    )
  })

/** Writes bytes to `file` atomically. */
export const writeBytesAtomically = (file: string, bytes: Uint8Array): Effect.Effect<void, UserError, FileSystem | Path> =>
  writeAtomically(file, (tmp) =>
    Effect.gen(function*() {
      const fs = yield* FileSystem
      yield* fs.writeFile(tmp, bytes).pipe(Effect.mapError((e) => cacheProblem(file, e)))
    }))

/** The bytes of `file`, or undefined if it is absent or unreadable (a cache miss). */
export const readIfPresent = (file: string): Effect.Effect<Uint8Array | undefined, never, FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem
    return yield* fs.readFile(file).pipe(Effect.orElseSucceed(() => undefined))
  })
