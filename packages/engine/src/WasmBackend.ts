/**
 * The `wasm` backend provider (the embedded default): tfjs-backend-wasm 4.22 with the threaded
 * loader and rekindle's kernel overrides. Threads default to the machine's available cores.
 */
import type { BackendInfo, BackendProvider } from "@rekindle/core"
import { Effect } from "effect"
import * as WasmInit from "./wasm/WasmInit.ts"
import * as WasmOverrides from "./wasm/WasmOverrides.ts"

/** Options of {@link make}. */
export interface WasmProviderOptions {
  /** Install the kernel overrides (default true; benchmarks turn them off). */
  readonly overrides?: boolean
  /** How the threaded binary is brought up (tests inject failures here). */
  readonly threadedAttempt?: WasmInit.ThreadedAttempt
}

/** Brings wasm up and reports it as a {@link BackendInfo}. */
export const make = (options: WasmProviderOptions = {}): BackendProvider => ({
  name: "wasm",
  priority: 10,
  available: Effect.succeed(true),
  init: ({ threads }) =>
    Effect.tryPromise({
      try: () => WasmInit.initWasm(threads, options.threadedAttempt),
      catch: (cause) => new Error(`wasm backend failed to initialise: ${String(cause)}`, { cause })
    }).pipe(
      Effect.map((s): BackendInfo => {
        if (options.overrides === false) WasmOverrides.uninstall()
        else WasmOverrides.install()
        return {
          name: "wasm",
          threads: s.threads,
          simd: s.simd,
          overrides: WasmOverrides.isInstalled(),
          ...(s.fallbackReason !== undefined ? { fallback: `the threaded wasm binary failed: ${s.fallbackReason}` } : {})
        }
      })
    )
})

/** The default wasm provider (overrides on, threaded when more than one thread is asked for). */
export const provider: BackendProvider = make()

/** How the live wasm backend came up (threads requested and got, fallback reason), if it is up. */
export const status = WasmInit.status
