/**
 * BatchMatMul for the wasm backend that stays on XNNPACK's fast path.
 *
 * The stock kernel uses XNNPACK only when `!transposeA && !transposeB && batchA == 1 &&
 * batchB == 1`; everything else runs `slow_batch_matmul`, a scalar triple loop (0.6-2.7 GFLOP/s
 * against 36-69 on the fast path here). But the gradients of a matMul are exactly the transposed
 * forms, and dense layers on `[B, T, d]` activations have `batchA > 1`. This kernel:
 *  - materialises transposes explicitly (with the Transpose override's dispatch) and calls the
 *    stock kernel in its plain NN form;
 *  - folds `a`'s batch into rows when `b` is unbatched (`[B*M, K] @ [K, N]`: one XNNPACK call);
 *  - loops over the batch for truly batched products (attention: `QKᵀ`, `PV`), one XNNPACK call
 *    per slice, with general numpy broadcasting of the batch dims; small slices run on the pool
 *    or on the calling thread, whichever a timing per shape finds faster (Adaptive.ts);
 *  - for 2-D products with exactly one transposed operand, computes `Cᵀ = op(B)ᵀ · op(A)ᵀ`
 *    instead when a cost model (element passes: a JS transpose ≈ XNNPACK weight packing ≈ 3 ns per
 *    element, as measured) says that moves less memory.
 * When a native BLAS is active (NativeBlas.ts), every float32 product runs on it instead
 * (BlasMatMul.ts: `cblas_sgemm` on the heap, no transposes, no copies).
 * Non-float32 inputs go to the stock kernel (which rejects them, as stock tfjs does).
 */
import { broadcast_util, type KernelFunc, type TensorInfo } from "@tensorflow/tfjs-core"
import * as Adaptive from "./Adaptive.ts"
import * as BlasMatMul from "./BlasMatMul.ts"
import * as NativeBlas from "./NativeBlas.ts"
import type { TransposeFn } from "./TransposeKernel.ts"
import * as Sequential from "./Sequential.ts"
import { alias, free, freeAlias, heap, indexOf, internals, sizeOf, stridesOf, view, type WasmBackendInternals } from "./WasmHeap.ts"
import { Bug } from "@rekindle/core"

/** Switches of the override (all on by default; off reproduces parts of the stock behaviour). */
export interface BatchMatMulOptions {
  /** Run float32 products on the native BLAS when one is active (NativeBlas.ts); default true. */
  readonly blas?: boolean
  /** Loop over batch slices on the fast path instead of the stock batched slow path. */
  readonly batchedLoop: boolean
  /** Allow the `Cᵀ = op(B)ᵀ · op(A)ᵀ` rewrite of 2-D TN/NT products. */
  readonly swap: boolean
  /**
   * Batched loop: run each slice on aliases of the operands' and the output's memory, calling the
   * C++ entry point directly (no per-slice copies or allocations); off = copy slices in and out.
   */
  readonly aliasSlices?: boolean
  /**
   * Batched products whose slices have at most this many FLOPs (2·M·K·N) are "small": they may run
   * on the calling thread only instead of the thread pool (see Sequential.ts); 0 = none is small.
   */
  readonly sequentialMaxFlops?: number
  /**
   * Where small batched products run: `adaptive` (default) times both per shape and keeps the
   * faster (see Adaptive.ts), `sequential` always on the calling thread, `pool` always on the pool.
   * On the native-BLAS path (where the thread count changes the bits, so no timing decides):
   * `pool` runs them on the library's threads, anything else on one library thread.
   */
  readonly smallProducts?: SmallProducts
  /** Native BLAS: split the one-thread small products with a helper thread (BlasHelper.ts); default true. */
  readonly blasHelper?: boolean
}

/** Where small batched products run (see {@link BatchMatMulOptions.smallProducts}). */
export type SmallProducts = "adaptive" | "sequential" | "pool"

/** Default {@link BatchMatMulOptions.sequentialMaxFlops}: attention slices yes, dense layers no. */
export const defaultSequentialMaxFlops = 1 << 24

type CppBatchMatMul = (
  aId: number, aShape: Uint8Array, aRank: number, bId: number, bShape: Uint8Array, bRank: number,
  transposeA: boolean, transposeB: boolean, outId: number
) => void

const cppByModule = new WeakMap<object, CppBatchMatMul>()

/** The C++ `BatchMatMul` entry point of this backend's module (the one the stock kernel wraps). */
const cppBatchMatMul = (backend: WasmBackendInternals): CppBatchMatMul => {
  let f = cppByModule.get(backend.wasm)
  if (f === undefined) {
    f = backend.wasm.cwrap("BatchMatMul", null, [
      "number", "array", "number", "number", "array", "number", "number", "number", "number"
    ]) as CppBatchMatMul
    cppByModule.set(backend.wasm, f)
  }
  return f
}

const shapeBytes = (shape: ReadonlyArray<number>): Uint8Array => new Uint8Array(new Int32Array(shape).buffer)

/** The C++ tensor id of a tensor. */
const idOf = (backend: WasmBackendInternals, t: TensorInfo): number => {
  const d = backend.dataIdMap.get(t.dataId)
  if (d === undefined) throw new Bug("tensor data not found on the wasm backend")
  return d.id
}

/** Which operand layout the cost model prefers for a 2-D product with one transposed operand. */
export const preferSwap = (M: number, K: number, N: number, transposeA: boolean, transposeB: boolean): boolean => {
  if (transposeA === transposeB) return false
  const direct = (transposeA ? M * K : 0) + (transposeB ? K * N : 0) + K * N
  const swapped = (transposeB ? 0 : K * N) + (transposeA ? 0 : M * K) + K * M + M * N
  return swapped < direct
}

/** Maps a flat index over `outer` (a broadcast result) to the flat index over `operand`. */
export const broadcastIndexer = (
  outer: ReadonlyArray<number>,
  operand: ReadonlyArray<number>
): ((i: number) => number) => {
  const offset = outer.length - operand.length
  const operandStrides = stridesOf(operand)
  const outStrides = stridesOf(outer)
  return (i) => {
    let rest = i
    let index = 0
    for (let d = 0; d < outer.length; d++) {
      const c = Math.floor(rest / outStrides[d]!)
      rest -= c * outStrides[d]!
      const od = d - offset
      if (od >= 0 && operand[od] !== 1) index += c * operandStrides[od]!
    }
    return index
  }
}

const plain = { transposeA: false, transposeB: false }

/** Copies `count` elements of `src` starting at element `from` into a fresh `[1, rows, cols]` tensor. */
const copySlice = (backend: WasmBackendInternals, src: TensorInfo, from: number, rows: number, cols: number): TensorInfo => {
  const out = backend.makeOutput([1, rows, cols], "float32")
  const h = heap(backend, "float32")
  const s = indexOf(backend, src) + from
  h.copyWithin(indexOf(backend, out), s, s + rows * cols)
  return out
}

/** Builds the override around the stock kernel function; `transpose` materialises transposes. */
export const make = (stock: KernelFunc, transpose: TransposeFn, options: BatchMatMulOptions): KernelFunc => {
  const chooser = Adaptive.make()
  return (args) => {
    const a = args.inputs["a"]!
    const b = args.inputs["b"]!
    const transposeA = args.attrs?.["transposeA"] === true
    const transposeB = args.attrs?.["transposeB"] === true
    if (a.dtype !== "float32" || b.dtype !== "float32") return stock(args)
    const backend = internals(args.backend)
    const ar = a.shape.length
    const br = b.shape.length
    const outerA = a.shape.slice(0, -2)
    const outerB = b.shape.slice(0, -2)
    const batchA = sizeOf(outerA)
    const batchB = sizeOf(outerB)
    const M = transposeA ? a.shape[ar - 1]! : a.shape[ar - 2]!
    const K = transposeA ? a.shape[ar - 2]! : a.shape[ar - 1]!
    const Kb = transposeB ? b.shape[br - 1]! : b.shape[br - 2]!
    const N = transposeB ? b.shape[br - 2]! : b.shape[br - 1]!
    if (K !== Kb) {
      throw new Bug(
        `Error in matMul: inner shapes (${K}) and (${Kb}) of Tensors with shapes ${a.shape} and ${b.shape} ` +
          `and transposeA=${transposeA} and transposeB=${transposeB} must match.`
      )
    }
    const outOuter = broadcast_util.assertAndGetBroadcastShape(outerA, outerB)
    const outShape = [...outOuter, M, N]
    const batch = sizeOf(outOuter)
    if (M * N * K === 0) return stock(args)
    const native = options.blas === false ? undefined : NativeBlas.active()
    if (native !== undefined) {
      // small batched slices on one BLAS thread unless `smallProducts: "pool"` (see BlasMatMul.ts)
      const serialMaxFlops = options.smallProducts === "pool" ? 0 : (options.sequentialMaxFlops ?? defaultSequentialMaxFlops)
      return BlasMatMul.run(native, backend, {
        a, b, transposeA, transposeB, M, K, N, batchA, batchB, batch, outShape,
        aIndex: broadcastIndexer(outOuter, outerA),
        bIndex: broadcastIndexer(outOuter, outerB)
      }, serialMaxFlops, options.blasHelper !== false)
    }
    if (batchA === 1 && batchB === 1 && !transposeA && !transposeB) return stock(args)

    const temps: Array<TensorInfo> = []
    try {
      if (options.swap && batchA === 1 && batchB === 1 && preferSwap(M, K, N, transposeA, transposeB)) {
        // TN: Cᵀ[N,M] = Bᵀ[N,K] · A[K,M];  NT: Cᵀ[N,M] = B[N,K] · Aᵀ[K,M]
        const left = transposeA ? transpose(backend, view(b, [K, N]), [1, 0]) : view(b, [N, K])
        if (transposeA) temps.push(left)
        const right = transposeA ? view(a, [K, M]) : transpose(backend, view(a, [M, K]), [1, 0])
        if (!transposeA) temps.push(right)
        const ct = stock({ inputs: { a: view(left, [1, N, K]), b: view(right, [1, K, M]) }, backend, attrs: plain })
        temps.push(ct as TensorInfo)
        const out = transpose(backend, view(ct as TensorInfo, [N, M]), [1, 0])
        out.shape = outShape
        return out
      }
      const aa = transposeA ? transpose(backend, view(a, [batchA, K, M]), [0, 2, 1]) : a
      if (transposeA) temps.push(aa)
      const bb = transposeB ? transpose(backend, view(b, [batchB, N, K]), [0, 2, 1]) : b
      if (transposeB) temps.push(bb)
      let out: TensorInfo
      if (batchB === 1) {
        out = stock({ inputs: { a: view(aa, [1, batchA * M, K]), b: view(bb, [1, K, N]) }, backend, attrs: plain }) as TensorInfo
      } else if (!options.batchedLoop && (batchA === 1 || batchA === batch) && batchB === batch) {
        out = stock({ inputs: { a: view(aa, [batchA, M, K]), b: view(bb, [batchB, K, N]) }, backend, attrs: plain }) as TensorInfo
      } else if (options.aliasSlices !== false) {
        const aIndex = broadcastIndexer(outOuter, outerA)
        const bIndex = broadcastIndexer(outOuter, outerB)
        out = backend.makeOutput([batch, M, N], "float32")
        const cpp = cppBatchMatMul(backend)
        const aShape = shapeBytes([1, M, K])
        const bShape = shapeBytes([1, K, N])
        const small = 2 * M * K * N <= (options.sequentialMaxFlops ?? defaultSequentialMaxFlops)
        const sequential = small && options.smallProducts !== "pool" ? Sequential.of(backend) : undefined
        const loop = () => {
          for (let i = 0; i < batch; i++) {
            const as = alias(backend, aa, aIndex(i) * M * K, [1, M, K])
            const bs = alias(backend, bb, bIndex(i) * K * N, [1, K, N])
            const os = alias(backend, out, i * M * N, [1, M, N])
            try {
              cpp(idOf(backend, as), aShape, 3, idOf(backend, bs), bShape, 3, false, false, idOf(backend, os))
            } finally {
              freeAlias(backend, as)
              freeAlias(backend, bs)
              freeAlias(backend, os)
            }
          }
        }
        if (sequential === undefined) loop()
        else if (options.smallProducts === "sequential") sequential(loop)
        else chooser.run(`${batch}x${M}x${K}x${N}`, () => sequential(loop), loop)
      } else {
        const aIndex = broadcastIndexer(outOuter, outerA)
        const bIndex = broadcastIndexer(outOuter, outerB)
        out = backend.makeOutput([batch, M, N], "float32")
        for (let i = 0; i < batch; i++) {
          const as = batchA === 1 ? view(aa, [1, M, K]) : copySlice(backend, aa, aIndex(i) * M * K, M, K)
          const bs = copySlice(backend, bb, bIndex(i) * K * N, K, N)
          const os = stock({ inputs: { a: as, b: bs }, backend, attrs: plain }) as TensorInfo
          const h = heap(backend, "float32")
          const so = indexOf(backend, os)
          h.copyWithin(indexOf(backend, out) + i * M * N, so, so + M * N)
          if (batchA !== 1) free(backend, as)
          free(backend, bs)
          free(backend, os)
        }
      }
      out.shape = outShape
      return out
    } finally {
      for (const t of temps) free(backend, t)
    }
  }
}
