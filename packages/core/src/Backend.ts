/**
 * Compute backends. The engine ships `wasm` (embedded default) and `cpu`; plugins may add more
 * (`node`, `node-gpu` when `@tensorflow/tfjs-node(-gpu)` is installed). `auto` picks the available
 * backend with the highest priority.
 */
import type { Effect } from "effect"

/** What the run's first event reports about the backend it got. */
export interface BackendInfo {
  readonly name: string
  readonly threads: number
  readonly simd: boolean
  /** Whether rekindle's kernel overrides are installed. */
  readonly overrides: boolean
  /** Why fewer threads than asked for run, when that happened (e.g. the threaded wasm start-up failed). */
  readonly fallback?: string
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
  /** Registers and selects the backend. */
  readonly init: (options: { readonly threads: number }) => Effect.Effect<BackendInfo, unknown>
}
