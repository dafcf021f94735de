/**
 * Running one XNNPACK call on the calling thread only, in the threaded build.
 *
 * tfjs-backend-wasm hands its global pthreadpool to every XNNPACK operator it runs. For small
 * products (an attention slice, [128,64]x[64,128]: 2 MFLOP) waking the pool's workers and waiting
 * for them costs more than the work, and on a machine whose cores are busy with anything else it
 * is far worse (measured on the 2-core VM under load: a batched QKᵀ of 64 such slices 55-85 ms on
 * the pool vs 12-15 ms on one thread). XNNPACK runs an operator sequentially when it is given no
 * pool, so this module sets the C++ global `tfjs::backend::threadpool` to NULL around a call and
 * restores it right after (the pool is idle between calls: every parallel section joins before
 * its kernel returns).
 *
 * The global has no exported symbol. Its address in the pinned 4.22.0 binaries was read from the
 * code of the exported `get_threads_count` (`i32.const ADDR; i32.load; ...; if null return -1`)
 * and is verified at runtime before use: with the word zeroed `get_threads_count()` must answer -1,
 * and the backend's thread count after restoring it. Any mismatch (another build) turns the
 * feature off: everything then runs on the pool as before.
 */
import type { WasmBackendInternals } from "./WasmHeap.ts"

/** Addresses of `tfjs::backend::threadpool` in tfjs-backend-wasm 4.22.0 (threaded-SIMD, SIMD builds). */
const candidateAddresses: ReadonlyArray<number> = [23564, 23228]

/** Runs `f` with XNNPACK on the calling thread only. */
export type Sequential = <A>(f: () => A) => A

const byModule = new WeakMap<object, Sequential | null>()

const words = (backend: WasmBackendInternals): Int32Array => {
  const m = backend.wasm
  const buffer = m.wasmMemory !== undefined && m.wasmMemory.buffer !== m.HEAP32.buffer ? m.wasmMemory.buffer : m.HEAP32.buffer
  return new Int32Array(buffer)
}

const detect = (backend: WasmBackendInternals): Sequential | null => {
  const getThreads = backend.wasm.cwrap("get_threads_count", "number", []) as () => number
  const threads = getThreads()
  if (!(threads > 1)) return null // one thread: XNNPACK already runs sequentially
  for (const address of candidateAddresses) {
    const index = address >>> 2
    const h = words(backend)
    if (index >= h.length) continue
    const pool = h[index]!
    if (pool === 0) continue
    h[index] = 0
    const zeroed = getThreads()
    words(backend)[index] = pool
    if (zeroed === -1 && getThreads() === threads) {
      return <A>(f: () => A): A => {
        const w = words(backend)
        const saved = w[index]!
        w[index] = 0
        try {
          return f()
        } finally {
          words(backend)[index] = saved
        }
      }
    }
  }
  return null
}

/** The sequential runner of this backend's module, or `undefined` (one thread, or an unknown build). */
export const of = (backend: WasmBackendInternals): Sequential | undefined => {
  let s = byModule.get(backend.wasm)
  if (s === undefined) {
    s = detect(backend)
    byModule.set(backend.wasm, s)
  }
  return s ?? undefined
}
