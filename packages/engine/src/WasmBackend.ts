/**
 * The `wasm` backend provider (the embedded default): tfjs-backend-wasm 4.22 with the threaded
 * loader and rekindle's kernel overrides. Threads default to the machine's available cores.
 */
import { BackendError, type BackendInfo, type BackendProvider, UserError } from "@rekindle/core"
import { Effect } from "effect"
import * as NativeBlas from "./wasm/NativeBlas.ts"
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
  init: ({ threads, blas = "auto", blasThreads }) =>
    Effect.try({
      try: () => NativeBlas.activate(blas, blasThreads ?? threads),
      catch: (e) => {
        const message = e instanceof Error ? e.message.replace(/^blas: /, "") : String(e)
        return new UserError({ message: `backend.blas: ${message}`, problems: [{ path: "backend.blas", message }] })
      }
    }).pipe(Effect.andThen((selection) => Effect.tryPromise({
      try: () => WasmInit.initWasm(threads, options.threadedAttempt),
      catch: (cause) => new BackendError({ backend: "wasm", message: `wasm backend failed to initialise: ${String(cause)}` })
    }).pipe(
      Effect.map((s): BackendInfo => {
        if (options.overrides === false) WasmOverrides.uninstall()
        else WasmOverrides.install()
        const overrides = WasmOverrides.isInstalled()
        // the native path lives in the BatchMatMul override: without overrides XNNPACK runs
        const info = overrides ? selection.info : { ...selection.info, library: "none", reason: "kernel overrides off: matrix products on XNNPACK (wasm)" }
        return {
          name: "wasm",
          threads: s.threads,
          simd: s.simd,
          overrides,
          blas: info,
          ...(s.fallbackReason !== undefined ? { fallback: `the threaded wasm binary failed: ${s.fallbackReason}` } : {})
        }
      })
    )))
})

/** The default wasm provider (overrides on, threaded when more than one thread is asked for). */
export const provider: BackendProvider = make()

/** How the live wasm backend came up (threads requested and got, fallback reason), if it is up. */
export const status = WasmInit.status
