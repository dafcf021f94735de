/**
 * Initialises the tfjs wasm backend: threaded-SIMD binary when more than one thread is asked for
 * (through the {@link ThreadedWasmLoader} shim), falling back to the single-threaded binary when
 * anything in the threaded path fails. The thread count is fixed by the first successful init in
 * a process (tfjs cannot re-size a live wasm backend); later inits reuse the live backend.
 */
import * as tf from "@tensorflow/tfjs-core"
import * as ThreadedWasmLoader from "../ThreadedWasmLoader.ts"

/** The `@tensorflow/tfjs-backend-wasm` module (imported lazily: importing registers its kernels). */
type WasmModule = typeof import("@tensorflow/tfjs-backend-wasm")

/** How the wasm backend came up. */
export interface WasmStatus {
  /** Threads the caller asked for. */
  readonly requested: number
  /** Threads XNNPACK's pool really uses. */
  readonly threads: number
  readonly simd: boolean
  /** Whether the threaded-SIMD binary is loaded. */
  readonly threaded: boolean
  /** Why the threaded path was abandoned, when it was. */
  readonly fallbackReason?: string
}

/** One attempt to bring up the threaded binary; resolves `true` on success. Injectable for tests. */
export type ThreadedAttempt = (wasm: WasmModule, threads: number) => Promise<boolean>

/** How long the threaded init may take before we give up on it. */
const threadedInitTimeoutMs = 60_000

const withTimeout = <A>(p: Promise<A>, ms: number, what: string): Promise<A> =>
  new Promise<A>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms)
    timer.unref()
    p.then(
      (a) => {
        clearTimeout(timer)
        resolve(a)
      },
      (e: unknown) => {
        clearTimeout(timer)
        reject(e)
      }
    )
  })

/** The default threaded attempt: install the shim, force the flag, widen `os.cpus()`, init. */
const threadedAttempt: ThreadedAttempt = async (wasm, threads) => {
  ThreadedWasmLoader.install()
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", true)
  wasm.setThreadsCount(threads)
  return ThreadedWasmLoader.withCpuCount(2 * threads, () =>
    withTimeout(tf.setBackend("wasm"), threadedInitTimeoutMs, "threaded wasm init")
  )
}

/** A pthread worker of the emscripten glue (a `node:worker_threads` Worker). */
interface PThreadWorker {
  unref?: () => void
}

/**
 * Lets the process exit while the threaded pool is alive: emscripten `ref()`s every worker that
 * runs a pthread, and XNNPACK's pool threads run (wait) for the life of the backend, so without
 * this a script that is done would never exit.
 */
const unrefWorkers = (): void => {
  type Pool = { runningWorkers?: Array<PThreadWorker>; unusedWorkers?: Array<PThreadWorker> }
  const backend = tf.engine().registry["wasm"] as { wasm?: { PThread?: Pool } } | undefined
  const pthread = backend?.wasm?.PThread
  for (const w of [...(pthread?.runningWorkers ?? []), ...(pthread?.unusedWorkers ?? [])]) w.unref?.()
}

const statusKey = Symbol.for("rekindle/engine/wasm-status")
type GlobalWithStatus = typeof globalThis & { [statusKey]?: WasmStatus }

/** How the live wasm backend came up, if it is up. */
export const status = (): WasmStatus | undefined => (globalThis as GlobalWithStatus)[statusKey]

const describe = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/**
 * Brings the wasm backend up (or reuses it) and makes it current. Threads > 1 tries the threaded
 * binary first; any failure (thrown, rejected, timed out, or tfjs reporting `false`) falls back to
 * one thread. Rejects only if even the single-threaded init fails.
 */
export const initWasm = async (
  threads: number,
  attempt: ThreadedAttempt = threadedAttempt
): Promise<WasmStatus> => {
  const g = globalThis as GlobalWithStatus
  const wasm: WasmModule = await import("@tensorflow/tfjs-backend-wasm")
  const live = g[statusKey]
  if (live !== undefined && tf.engine().registry["wasm"] !== undefined) {
    if (!(await tf.setBackend("wasm"))) throw new Error("could not switch to the live wasm backend")
    return live
  }
  // a wasm backend someone else brought up (tf.setBackend("wasm") directly) is adopted as it is
  const adopted = tf.engine().registry["wasm"] !== undefined
  let fallbackReason: string | undefined
  let ok = false
  if (adopted) {
    ok = await tf.setBackend("wasm")
    if (!ok) throw new Error("could not switch to the live wasm backend")
  } else if (threads > 1) {
    try {
      ok = await attempt(wasm, threads)
      if (!ok) fallbackReason = "tfjs could not initialise the threaded wasm binary"
    } catch (e) {
      fallbackReason = describe(e)
    }
  }
  if (!ok) {
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false)
    wasm.setThreadsCount(1)
    ok = await tf.setBackend("wasm")
    if (!ok) throw new Error("tfjs could not initialise the wasm backend")
  }
  const threaded = Boolean(await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT"))
  if (threaded) unrefWorkers()
  const simd = Boolean(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT"))
  const s: WasmStatus = {
    requested: threads,
    threads: wasm.getThreadsCount(),
    simd,
    threaded,
    ...(fallbackReason === undefined ? {} : { fallbackReason })
  }
  g[statusKey] = s
  return s
}
