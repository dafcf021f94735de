/**
 * The native-BLAS path of the BatchMatMul override: every float32 product (NN, NT, TN, TT, rank 2
 * to n, broadcast batch dims) runs as `cblas_sgemm` calls on Float32Array views of the wasm heap.
 * No transposes are materialised (sgemm reads either layout) and nothing is copied: operands are
 * read and the output written in place in tfjs's tensor memory.
 *  - `b` unbatched and `a` not transposed: `a`'s batch folds into rows, one call;
 *  - otherwise one call per output slice, with numpy broadcasting of the batch dims; when the
 *    slices are small (attention's `[128,64]·[64,128]`: 2 MFLOP each) the loop runs with the
 *    library on one thread (`serial`): waking the library's second thread per 2-MFLOP call costs
 *    more than it saves (measured: 1 thread 65 GFLOP/s median, 79 best; 2 threads 9 median, 42
 *    best, 64 slices of 128×64×128 under load ~7 on 2 cores). A fixed rule by size, not a timing:
 *    the thread count changes the bits. Those slices are split between the calling thread and a
 *    helper thread, each running whole slices single-threaded (BlasHelper.ts: the same bits).
 */
import type { TensorInfo } from "@tensorflow/tfjs-core"
import * as BlasHelper from "./BlasHelper.ts"
import { memoryOf } from "./KernelModule.ts"
import type { Blas } from "./NativeBlas.ts"
import { heap, indexOf, type WasmBackendInternals } from "./WasmHeap.ts"

/** The geometry of one (batched) product, as the override computed it. */
export interface Product {
  readonly a: TensorInfo
  readonly b: TensorInfo
  readonly transposeA: boolean
  readonly transposeB: boolean
  readonly M: number
  readonly K: number
  readonly N: number
  readonly batchA: number
  readonly batchB: number
  /** Output batch size (broadcast of both). */
  readonly batch: number
  /** Full output shape. */
  readonly outShape: Array<number>
  /** Output slice index -> `a`'s / `b`'s slice index (broadcasting). */
  readonly aIndex: (i: number) => number
  readonly bIndex: (i: number) => number
}

/**
 * Runs `p` with `blas` and returns the new output tensor. Batched products whose slices have at
 * most `serialMaxFlops` FLOPs (2·M·K·N) run with the library on one thread (0: never), split with
 * the helper thread when `helper` (BlasHelper.ts: the same bits).
 */
export const run = (blas: Blas, backend: WasmBackendInternals, p: Product, serialMaxFlops = 0, helper = false): TensorInfo => {
  const { M, K, N, transposeA, transposeB } = p
  const out = backend.makeOutput(p.outShape, "float32")
  // read the heap view after the allocation (it may have grown the heap)
  const h = heap(backend, "float32") as Float32Array
  const a0 = indexOf(backend, p.a)
  const b0 = indexOf(backend, p.b)
  const o0 = indexOf(backend, out)
  const lda = transposeA ? M : K
  const ldb = transposeB ? K : N
  if (p.batchB === 1 && !transposeA) {
    const rows = p.batch * M
    blas.sgemm(false, transposeB, rows, N, K, h.subarray(a0, a0 + rows * K), K, h.subarray(b0, b0 + K * N), ldb, 0, h.subarray(o0, o0 + rows * N), N)
    return out
  }
  const loop = () => {
    for (let i = 0; i < p.batch; i++) {
      const as = a0 + p.aIndex(i) * M * K
      const bs = b0 + p.bIndex(i) * K * N
      const os = o0 + i * M * N
      blas.sgemm(transposeA, transposeB, M, N, K, h.subarray(as, as + M * K), lda, h.subarray(bs, bs + K * N), ldb, 0, h.subarray(os, os + M * N), N)
    }
  }
  if (p.batch > 1 && blas.serial !== undefined && 2 * M * K * N <= serialMaxFlops) {
    BlasHelper.runSlices(blas, blas.serial, memoryOf(backend), h, {
      transposeA, transposeB, M, N, K, lda, ldb, ldc: N, spans: [M * K, K * N, M * N], count: p.batch,
      offsets: (i) => [a0 + p.aIndex(i) * M * K, b0 + p.bIndex(i) * K * N, o0 + i * M * N]
    }, helper)
  } else loop()
  return out
}
