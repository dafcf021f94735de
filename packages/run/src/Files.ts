/**
 * Durable file writes for run folders. `writeAtomic` writes to a temporary file in the same
 * folder, fsyncs it, renames it over the target and fsyncs the folder, so a reader (or a process
 * killed at any instant) sees either the old file or the new one, never a mix. File-system
 * failures are described with Node's errno text (`ENOSPC: no space left on device, write`)
 * instead of Effect's terse `Unknown: FileSystem.writeAll (32)`.
 */
import { Effect, FileSystem, Path } from "effect"

/** The Node errno code behind a file-system failure (`ENOSPC`, `EACCES`, ...), if any. */
export const errnoOf = (e: unknown): string | undefined => {
  const cause = (e as { reason?: { cause?: unknown } } | undefined)?.reason?.cause ?? (e as { cause?: unknown } | undefined)?.cause
  const code = (cause as { code?: unknown } | undefined)?.code ?? (e as { code?: unknown } | undefined)?.code
  return typeof code === "string" ? code : undefined
}

const hints: Readonly<Record<string, string>> = {
  ENOSPC: "the disk is full",
  EDQUOT: "the disk quota is exhausted",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "the file system is read-only",
  ENOTDIR: "a parent path is a file, not a folder",
  EISDIR: "the path is a folder",
  ENOENT: "no such file or folder",
  EEXIST: "it already exists"
}

/** A readable description of a file-system failure: `ENOSPC (the disk is full): ENOSPC: no space left on device, write`. */
export const describe = (e: unknown): string => {
  const code = errnoOf(e)
  const cause = (e as { reason?: { cause?: unknown } } | undefined)?.reason?.cause
  const message = cause instanceof Error ? cause.message : e instanceof Error ? e.message : String(e)
  if (code === undefined) return message
  const hint = hints[code]
  return hint === undefined ? message : `${hint} (${message})`
}

/** Fsyncs a folder (so a rename inside it is durable). Best effort: some file systems refuse. */
export const syncFolder = (dir: string) =>
  Effect.scoped(Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const handle = yield* fs.open(dir, { flag: "r" })
    yield* handle.sync
  })).pipe(Effect.ignore)

/**
 * Writes `data` to `file` atomically and durably: `<file>.tmp-<pid>`, fsync, rename, fsync the
 * folder. On any failure the temporary file is removed and `file` is untouched.
 */
export const writeAtomic = (file: string, data: Uint8Array) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const tmp = `${file}.tmp-${process.pid}`
    const write = Effect.scoped(Effect.gen(function*() {
      const handle = yield* fs.open(tmp, { flag: "w" })
      yield* handle.writeAll(data)
      yield* handle.sync
    }))
    yield* write.pipe(
      Effect.andThen(fs.rename(tmp, file)),
      Effect.onError(() => fs.remove(tmp, { force: true }).pipe(Effect.ignore))
    )
    yield* syncFolder(path.dirname(file))
  })

/** `writeAtomic` for text. */
export const writeTextAtomic = (file: string, text: string) => writeAtomic(file, new TextEncoder().encode(text))
