/**
 * Compute backends. The engine ships `wasm` (embedded default) and `cpu`; plugins may add more
 * (`node`, `node-gpu` when `@tensorflow/tfjs-node(-gpu)` is installed). `auto` picks the available
 * backend with the highest priority.
 */
import type { Effect } from "effect"
import type { BackendError, UserError } from "./Errors.ts"

/** What the run's first event reports about the backend it got. */
export interface BackendInfo {
  readonly name: string
  readonly threads: number
  readonly simd: boolean
  /** Whether rekindle's kernel overrides are installed. */
  readonly overrides: boolean
  /** Which library runs the matrix products (wasm backend only; absent elsewhere). */
  readonly blas?: BlasInfo
  /** Why fewer threads than asked for run, when that happened (e.g. the threaded wasm start-up failed). */
  readonly fallback?: string
}

/**
 * The native BLAS behind the wasm backend's matrix products, as chosen at init: `library` is
 * `openblas`, `accelerate`, `cblas` (another CBLAS library) or `none` (XNNPACK in wasm).
 */
export interface BlasInfo {
  /** The `blas` option asked for (`auto`, `openblas`, `none` or a library name/path). */
  readonly requested: string
  readonly library: string
  /** The name or path that was loaded. */
  readonly path?: string
  /** OpenBLAS's version (from `openblas_get_config`), `unknown` for other libraries. */
  readonly version?: string
  /** OpenBLAS's kernel core type (`openblas_get_corename`, e.g. `Haswell`). */
  readonly coreType?: string
  /** OpenBLAS's thread count (`openblas_get_num_threads`). */
  readonly threads?: number
  /** Why this path runs, in words. */
  readonly reason: string
}

/** What a backend's init is asked for: threads, and for wasm the BLAS choice. */
export interface BackendInitOptions {
  readonly threads: number
  /** wasm: `auto` (default), `openblas`, `none` or a CBLAS library name/path. */
  readonly blas?: string
  /** wasm: OpenBLAS threads (default: `threads`). */
  readonly blasThreads?: number
}

/** A backend a plugin can provide. */
export interface BackendProvider {
  readonly name: string
  /** Higher wins under `backend: auto` (node-gpu 30 > node 20 > wasm 10 > cpu 0). */
  readonly priority: number
  /** Whether it can be initialised here (e.g. its native package is installed). */
  readonly available: Effect.Effect<boolean>
  /** What makes it available, for the error when it is not (e.g. the npm install command of its package). */
  readonly requires?: string
  /**
   * Registers and selects the backend. Fails with a `BackendError` when it cannot come up here, or
   * a `UserError` when an option the user set is wrong (no fallback under `auto` then).
   */
  readonly init: (options: BackendInitOptions) => Effect.Effect<BackendInfo, BackendError | UserError>
}
