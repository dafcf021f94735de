/**
 * The sha256 of a study file's bytes: what a study file is checked against across machines. Its
 * own light module: a worker checks it for every cell without loading the engine.
 */
import { UserError } from "@rekindle/core/Errors"
import { Effect, FileSystem } from "effect"
import { createHash } from "node:crypto"

/** The sha256 (hex) of a file's bytes. */
export const fileHash = (file: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const bytes = yield* fs.readFile(file).pipe(
      Effect.mapError(() => new UserError({ message: `${file}: cannot read the study file` }))
    )
    return createHash("sha256").update(bytes).digest("hex")
  })
