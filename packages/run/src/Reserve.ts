/**
 * Space held back in a run folder while the run is live: `.rekindle-reserve`, a 64 KiB file of
 * zeros written when the run starts and deleted before its last writes. A run that fills the disk
 * (events.jsonl, a checkpoint, report.html) frees it, and then still has room to append `RunFailed`
 * and to record the failure in `manifest.json`, so the folder never stays `running` after a clean
 * failure. Removed when the run ends in any way but SIGKILL; a later run or resume reuses it.
 */
import { Files, UserError } from "@rekindle/core"
import { Effect, FileSystem, Path } from "effect"

/** The reserve's file name in the run folder. */
export const fileName = ".rekindle-reserve"

/** Bytes held back: far more than a manifest and a few event lines need. */
export const bytes = 64 * 1024

/** A held reserve. */
export interface Reserve {
  /** Deletes the reserve (idempotent, never fails). */
  readonly release: Effect.Effect<void, never, FileSystem.FileSystem>
}

/** Writes the reserve into `dir` (a full disk here is a clear `UserError`: the run cannot start). */
export const make = (dir: string): Effect.Effect<Reserve, UserError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const file = path.join(dir, fileName)
    const release = fs.remove(file, { force: true }).pipe(Effect.ignore)
    yield* fs.writeFile(file, new Uint8Array(bytes)).pipe(
      Effect.tapError(() => release),
      Effect.mapError((e) => new UserError({ message: `cannot start the run in ${dir}: ${Files.describe(e)}` }))
    )
    return { release }
  })
