/**
 * Loads HF's `tokenizers` Node binding (native, prebuilt `.node` per platform) lazily, so a
 * platform without a binary fails with a clear `UserError` when a tokenizer is needed, instead
 * of breaking every import of this package.
 */
import { createRequire } from "node:module"
import { UserError } from "@rekindle/core"
import { Effect } from "effect"
import type * as Binding from "tokenizers"

/** The `tokenizers` module (types from its `index.d.ts`). */
export type Native = typeof Binding

let loaded: Native | undefined

/** The `tokenizers` binding, loaded once; fails with a `UserError` explaining how to fix a missing binary. */
export const native: Effect.Effect<Native, UserError> = Effect.suspend(() => {
  if (loaded !== undefined) return Effect.succeed(loaded)
  try {
    loaded = createRequire(import.meta.url)("tokenizers") as Native
    return Effect.succeed(loaded)
  } catch (e) {
    return Effect.fail(
      new UserError({
        message: `data.tokenizer: the HF tokenizers binding (npm "tokenizers") could not be loaded on ` +
          `${process.platform}-${process.arch} (${e instanceof Error ? e.message.split("\n")[0] : String(e)}). ` +
          `It ships prebuilt binaries for common platforms; reinstall with "npm install" or use a supported platform.`
      })
    )
  }
})
