/**
 * Backend selection. Built-in providers: `wasm` (default, priority 10) and `cpu` (priority 0);
 * plugins add more (`node` 20, `node-gpu` 30 from `@rekindle/plugin-backend-node`). `auto` picks
 * the available provider with the highest priority. Selecting is idempotent: the same request
 * twice is fine, and a process may switch between backends (tests switch cpu <-> wasm); the wasm
 * thread count is fixed by the first wasm init of the process.
 */
import * as os from "node:os"
import { type BackendInfo, type BackendInitOptions, type BackendProvider, UserError } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import { Console, Effect, Semaphore } from "effect"
import * as CpuBackend from "./CpuBackend.ts"
import * as WasmBackend from "./WasmBackend.ts"

/** The embedded wasm provider. */
export const wasm: BackendProvider = WasmBackend.provider
/** The pure-JavaScript cpu provider. */
export const cpu: BackendProvider = CpuBackend.provider
/** Built-in providers. */
export const builtin: ReadonlyArray<BackendProvider> = [wasm, cpu]

/**
 * What to select: a provider name or `auto`; `threads` defaults to the available cores; `blas`
 * (wasm: `auto` default, `openblas`, `none` or a CBLAS library name/path) and `blasThreads`
 * (default `threads`) choose the native BLAS under the wasm backend's matrix products.
 */
export interface BackendRequest {
  readonly name: string
  readonly threads?: number
  readonly blas?: string
  readonly blasThreads?: number
  /**
   * The thread count must be had exactly (resume and reproduce pin the one a run recorded): getting
   * fewer is a `UserError` instead of a warning.
   */
  readonly pinned?: boolean
}

/** Cores this process may use (`os.availableParallelism()`). */
export const availableThreads = (): number => Math.max(1, os.availableParallelism())

/** Built-ins plus `extra`; an extra provider with a built-in's name replaces it. */
export const providers = (extra: ReadonlyArray<BackendProvider>): ReadonlyArray<BackendProvider> => {
  const byName = new Map<string, BackendProvider>()
  for (const p of [...builtin, ...extra]) byName.set(p.name, p)
  return [...byName.values()]
}

/** Providers that report available, highest priority first. */
export const availableByPriority = (
  all: ReadonlyArray<BackendProvider>
): Effect.Effect<ReadonlyArray<BackendProvider>> =>
  Effect.filter(all, (p) => p.available).pipe(Effect.map((ps) => [...ps].sort((x, y) => y.priority - x.priority)))

/** One init at a time per process: tfjs keeps a single global engine. */
const lock = Semaphore.makeUnsafe(1)

/**
 * TF.js production mode: skips debug-only checks and silences TF.js's console notes (such as the
 * cpu backend's advice to install tfjs-node, printed on its first use).
 */
const enableProdMode = Effect.sync(() => tf.env().set("PROD", true))

const initOne = (p: BackendProvider, options: BackendInitOptions): Effect.Effect<BackendInfo, UserError> =>
  enableProdMode.pipe(
    Effect.andThen(p.init(options)),
    Effect.catchTag("BackendError", (e) =>
      Effect.fail(new UserError({ message: `backend: "${p.name}" failed to initialise: ${e.message}` }))
    )
  )

/**
 * A backend that runs fewer threads than asked for: loud (one `warning:` line on stderr) for a
 * fresh run, a `UserError` when the count is pinned (a resumed or reproduced run on another
 * thread count would not be the same run).
 */
const checkThreads = (request: BackendRequest, threads: number, info: BackendInfo): Effect.Effect<BackendInfo, UserError> => {
  if (info.threads >= threads || info.fallback === undefined && !request.pinned) return Effect.succeed(info)
  const why = info.fallback ?? "the backend gave fewer threads"
  if (request.pinned) {
    const message = `this run was recorded on ${info.name} with ${threads} threads, but only ${info.threads} could be had here ` +
      `(${why}); on another thread count it would not continue the same run, so nothing was changed. ` +
      `Try again (a heavily loaded machine can make the threaded start-up fail)`
    return Effect.fail(new UserError({ message: `backend: ${message}`, problems: [{ path: "backend.threads", message }] }))
  }
  return Console.error(
    `warning: ${info.name} runs on ${info.threads} thread${info.threads === 1 ? "" : "s"}, not the ${threads} asked for: ${why}. ` +
      `The run continues (slower); its manifest records ${info.threads}`
  ).pipe(Effect.as(info))
}

/**
 * Initialises and selects a backend. Unknown name -> `UserError` naming `backend` and listing the
 * known names; a known but unavailable one -> `UserError`; `auto` -> the available provider with
 * the highest priority (falling to the next one if its init fails).
 */
export const init = (
  request: BackendRequest,
  extra: ReadonlyArray<BackendProvider> = []
): Effect.Effect<BackendInfo, UserError> =>
  Effect.gen(function*() {
    const threads = request.threads ?? availableThreads()
    if (!Number.isInteger(threads) || threads < 1) {
      return yield* new UserError({
        message: `threads: expected a whole number >= 1, got ${String(threads)}`,
        problems: [{ path: "threads", message: `expected a whole number >= 1, got ${String(threads)}` }]
      })
    }
    const blasThreads = request.blasThreads ?? threads
    if (!Number.isInteger(blasThreads) || blasThreads < 1) {
      const message = `expected a whole number >= 1, got ${String(request.blasThreads)}`
      return yield* new UserError({ message: `blasThreads: ${message}`, problems: [{ path: "blasThreads", message }] })
    }
    const options: BackendInitOptions = {
      threads,
      ...(request.blas === undefined ? {} : { blas: request.blas }),
      blasThreads
    }
    const all = providers(extra)
    if (request.name === "auto") {
      const candidates = yield* availableByPriority(all)
      const failures: Array<string> = []
      for (const p of candidates) {
        const r = yield* Effect.result(initOne(p, options).pipe(Effect.flatMap((info) => checkThreads(request, threads, info))))
        if (r._tag === "Success") return r.success
        // a setting the user got wrong (e.g. blas: "openblas" without OpenBLAS) is not a reason to fall back
        if (r.failure.problems !== undefined && r.failure.problems.length > 0) return yield* r.failure
        failures.push(r.failure.message)
        yield* Effect.logWarning(`backend auto: ${r.failure.message}; trying the next one`)
      }
      return yield* new UserError({ message: `backend: no available backend could be initialised\n${failures.join("\n")}` })
    }
    const p = all.find((q) => q.name === request.name)
    const known = ["auto", ...all.map((q) => q.name)].map((n) => `"${n}"`).join(", ")
    if (p === undefined) {
      const message = `expected one of ${known}, got "${request.name}"`
      return yield* new UserError({ message: `backend: ${message}`, problems: [{ path: "backend", message }] })
    }
    if (!(yield* p.available)) {
      const message = p.requires === undefined
        ? `"${p.name}" is not available here (is its package installed?)`
        : `"${p.name}" is not available here; it needs: ${p.requires}`
      return yield* new UserError({ message: `backend: ${message}`, problems: [{ path: "backend", message }] })
    }
    return yield* checkThreads(request, threads, yield* initOne(p, options))
  }).pipe(lock.withPermit)

/** The name of the tfjs backend in use now (`""` before any init). */
export const current = (): string => tf.engine().backendName ?? ""
