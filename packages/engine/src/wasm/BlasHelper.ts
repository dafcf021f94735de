/**
 * Small batched products on two threads without waking the library's thread pool per call: the
 * slices run with the library on one thread (`Blas.serial`, change 9's rule), half of them on the
 * calling thread and half on a helper thread (a Node worker that loads the same library with koffi
 * and calls `cblas_sgemm` on the same shared wasm heap). Every slice is one single-threaded sgemm
 * either way, so which thread runs it does not change its bits: the helper is a scheduling choice,
 * and whenever it is not available (plain memory, no OpenBLAS, still starting, failed) the calling
 * thread runs every slice itself, with the same results.
 *
 * The worker sets its own OpenMP thread count to 1 (`omp_set_num_threads` is per thread; OpenBLAS's
 * OpenMP build reads it on every call) and never touches the library's global setting. One helper
 * per process and memory, started on first use; it does not keep the process alive.
 *
 * The two threads take slices from one shared counter (HelperThread.ts: the protocol), so a helper
 * that is descheduled (a busy machine) costs at most the slice it holds: the calling thread takes
 * the rest. The job table holds, as float64, the geometry and each slice's a, b, c offsets.
 */
import { createRequire } from "node:module"
import * as HelperThread from "./HelperThread.ts"
import type { Blas } from "./NativeBlas.ts"

/** One batched product's geometry (every slice alike) and where slice s reads and writes. */
export interface Slices {
  readonly transposeA: boolean
  readonly transposeB: boolean
  readonly M: number
  readonly N: number
  readonly K: number
  readonly lda: number
  readonly ldb: number
  readonly ldc: number
  /** Element spans of one slice's operands and output (from its first element). */
  readonly spans: readonly [number, number, number]
  readonly count: number
  /** Element offsets on the heap of slice s's a, b and c. */
  readonly offsets: (s: number) => readonly [number, number, number]
}

/** The parts of `WebAssembly.Memory` used here. */
interface Memory {
  readonly buffer: ArrayBufferLike
}

const geometry = 8 // float64: transA, transB, M, N, K, lda, ldb, ldc
const capacity = 4096 // slices per job

type Helper = HelperThread.HelperThread

const workerSource = HelperThread.workerSource(`
  const koffi = require(workerData.koffi)
  const lib = koffi.load(workerData.path)
  const sgemm = lib.func("void cblas_sgemm(int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int)")
  let config = ""
  try { config = lib.func("const char* openblas_get_config()")() } catch {}
  if (config.includes("USE_OPENMP")) koffi.load("libgomp.so.1").func("void omp_set_num_threads(int)")(1)
  else throw new Error("not an OpenMP build of OpenBLAS")
  const job = () => {
    const h = new Float32Array(workerData.memory.buffer)
    const [ta, tb, M, N, K, lda, ldb, ldc] = table.subarray(0, ${geometry})
    return (i) => {
      const o = ${geometry} + 3 * i
      sgemm(101, ta ? 112 : 111, tb ? 112 : 111, M, N, K, 1, h.subarray(table[o]), lda, h.subarray(table[o + 1]), ldb, 0, h.subarray(table[o + 2]), ldc)
    }
  }
`)

const helpers = new WeakMap<Memory, Helper | null>()

/** The helper for `memory` (started on first call), or undefined where it cannot work. */
const helperFor = (blas: Blas, memory: Memory): Helper | undefined => {
  const known = helpers.get(memory)
  if (known !== undefined) return known ?? undefined
  let made: Helper | null = null
  if (typeof SharedArrayBuffer !== "undefined" && memory.buffer instanceof SharedArrayBuffer && blas.info.library === "openblas") {
    const koffi = createRequire(import.meta.url).resolve("koffi")
    made = HelperThread.spawn(workerSource, { memory, path: blas.info.path, koffi }, 8 * (geometry + 3 * capacity))
  }
  helpers.set(memory, made)
  return made ?? undefined
}

/**
 * Starts the helper for `memory` if it is not started yet and resolves when it is up: true when it
 * is ready, false where it cannot run (plain memory, not OpenBLAS's OpenMP build, worker failed).
 */
export const start = async (blas: Blas, memory: Memory): Promise<boolean> => {
  const h = helperFor(blas, memory)
  return h === undefined ? false : HelperThread.ready(h)
}

/** How many jobs the helper for `memory` has finished (0 when there is none). */
export const jobsDone = (memory: Memory): number => {
  const h = helpers.get(memory)
  return h === undefined || h === null ? 0 : Atomics.load(h.ctrl, 2)
}

/** Slices the worker took in the last job: the job's count minus the slices the caller ran (0 without a helper). */
let workerSlices = 0

/** Slices the helper ran in the last split job (tests check that it really shares the work). */
export const lastHelperSlices = (): number => workerSlices

/**
 * Runs every slice of `p` with the library on one thread (`blas.serial`), splitting them with the
 * helper thread when `helper` is set and the helper is ready; the same bits either way.
 */
export const runSlices = (blas: Blas, serial: NonNullable<Blas["serial"]>, memory: Memory, heapF: Float32Array, p: Slices, helper: boolean): void => {
  const [spanA, spanB, spanC] = p.spans
  const one = (s: number) => {
    const [a, b, c] = p.offsets(s)
    blas.sgemm(p.transposeA, p.transposeB, p.M, p.N, p.K, heapF.subarray(a, a + spanA), p.lda, heapF.subarray(b, b + spanB), p.ldb, 0, heapF.subarray(c, c + spanC), p.ldc)
  }
  const h = helper && p.count > 1 ? helperFor(blas, memory) : undefined
  serial(() => {
    // no helper, not ready, still in its previous job, or too many slices: all on this thread
    if (h === undefined || p.count > capacity || !HelperThread.available(h)) {
      for (let s = 0; s < p.count; s++) one(s)
      return
    }
    h.table.set([p.transposeA ? 1 : 0, p.transposeB ? 1 : 0, p.M, p.N, p.K, p.lda, p.ldb, p.ldc], 0)
    for (let s = 0; s < p.count; s++) h.table.set(p.offsets(s), geometry + 3 * s)
    const helped = HelperThread.share(h, p.count, one)
    // the helper failed meanwhile: the whole product here (same bits)
    if (helped === undefined) for (let t = 0; t < p.count; t++) one(t)
    else workerSlices = helped
  })
}
