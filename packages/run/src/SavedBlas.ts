/**
 * The native BLAS a saved run is continued (`resume`) or reproduced on: the one it ran on, read
 * from the manifest's `backend.blas`. The rule: a recorded library that cannot be loaded here stops
 * the command (a `UserError`, exit 2); one that loads with another version, core type or thread
 * count gives a warning (results will not be bitwise equal to the original's).
 */
import { type BlasInfo, UserError } from "@rekindle/core"
import { NativeBlas } from "@rekindle/engine"
import { Effect } from "effect"
import type { Manifest } from "./RunFolder.ts"

/**
 * The `blas` / `blasThreads` request for a saved run's backend: a wasm run recorded with
 * `library: "none"` (or before BLAS was recorded) runs on XNNPACK again; one recorded with a
 * library loads that library file with its recorded thread count. Other backends: nothing.
 */
export const pinned = (backend: NonNullable<Manifest["backend"]>): { blas?: string; blasThreads?: number } => {
  if (backend.name !== "wasm") return {}
  const b = backend.blas
  if (b === undefined || b.library === "none") return { blas: "none" }
  return { blas: b.path ?? b.requested, ...(b.threads === undefined ? {} : { blasThreads: b.threads }) }
}

/**
 * Loads the pinned library before the run (the engine then reuses this selection) and returns the
 * warning to print when it differs from the record in what decides the bits; fails with a
 * `UserError` when it cannot be loaded. Nothing to check for XNNPACK or non-wasm backends.
 */
export const check = (backend: NonNullable<Manifest["backend"]>): Effect.Effect<string | undefined, UserError> =>
  Effect.gen(function*() {
    const { blas, blasThreads } = pinned(backend)
    const recorded: BlasInfo | undefined = backend.blas
    if (blas === undefined || blas === "none" || recorded === undefined) return undefined
    const got = yield* Effect.try({
      try: () => NativeBlas.activate(blas, blasThreads).info,
      catch: (e) =>
        new UserError({
          message: `the run used ${recorded.library} ${recorded.version ?? ""} (${blas}) for its matrix products, ` +
            `which cannot be loaded here: ${e instanceof Error ? e.message : String(e)}`
        })
    })
    const differences = NativeBlas.differences(recorded, got)
    return differences.length === 0
      ? undefined
      : `warning: native BLAS differs from the original run (${differences.join("; ")}): results will not be bitwise equal to it`
  })
