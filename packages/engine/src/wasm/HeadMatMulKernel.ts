/**
 * `RekindleHeadMatMul`: attention's per-head batched products read and written in the
 * `[B, T, H·D]` layout of the projections, without the head split/merge transposes.
 *
 * Inputs `a`, `b`; attrs `transposeA`, `transposeB`, `heads` (H) and, per operand and for the
 * output, whether it is in the **heads** layout (`aHeads`, `bHeads`, `outHeads`):
 *  - heads layout: `[B, T, H·D]`, read as B·H matrices `[T, D]`, matrix s = bi·H + hi at element
 *    bi·T·H·D + hi·D with row stride H·D (what `reshape → transpose [0,2,1,3] → reshape` makes
 *    contiguous);
 *  - otherwise batched: `[B·H, R, C]`, contiguous matrices.
 * Output: `op(a)·op(b)` per matrix, `[B, M, H·N]` with `outHeads`, else `[B·H, M, N]`.
 *
 * With a native BLAS active (NativeBlas.ts) every matrix is one `cblas_sgemm` on the heap with the
 * row stride as its leading dimension (sgemm packs its operands, so the stride does not change the
 * arithmetic: the same bits as the products on contiguous copies), small products on one library
 * thread as in BlasMatMul.ts (split with a helper thread, BlasHelper.ts). Otherwise the heads-layout operands are transposed to contiguous
 * copies, the BatchMatMul override runs, and a heads-layout output is transposed back: exactly the
 * composition's kernels on the same values, so the same bits on the pure-wasm path.
 */
import type { KernelFunc, TensorInfo } from "@tensorflow/tfjs-core"
import * as BlasHelper from "./BlasHelper.ts"
import { requireInput } from "./FusedArgs.ts"
import { memoryOf } from "./KernelModule.ts"
import * as NativeBlas from "./NativeBlas.ts"
import type { TransposeFn } from "./TransposeKernel.ts"
import { free, heap, indexOf, internals, view, type WasmBackendInternals } from "./WasmHeap.ts"
import { Bug } from "@rekindle/core"

/** Kernel name. */
export const kernelName = "RekindleHeadMatMul"

/** Switches of the kernel (from the overrides' options). */
export interface HeadMatMulOptions {
  /** Use the native BLAS when one is active (the BatchMatMul override's `blas`). */
  readonly blas: boolean
  /** Products of at most this many FLOPs (2·M·K·N) run with the library on one thread (0: never). */
  readonly serialMaxFlops: number
  /** Split those between the calling thread and the helper thread (BlasHelper.ts; same bits). */
  readonly helper: boolean
}

/** One operand as the kernel reads it: where its matrices are and how they are laid out. */
interface Operand {
  readonly t: TensorInfo
  readonly heads: boolean
  /** Matrices (B·H). */
  readonly count: number
  /** Stored rows and columns of one matrix. */
  readonly rows: number
  readonly cols: number
  /** Row stride (leading dimension). */
  readonly ld: number
  /** Element offset of matrix s from the tensor's first element. */
  readonly offset: (s: number) => number
}

const operand = (name: string, t: TensorInfo, isHeads: boolean, h: number): Operand => {
  if (t.shape.length !== 3) throw new Bug(`${kernelName}: ${name} must be rank 3, got [${t.shape}]`)
  const [d0, d1, d2] = t.shape as [number, number, number]
  if (isHeads) {
    if (d2 % h !== 0) throw new Bug(`${kernelName}: ${name} [${t.shape}] has no ${h} heads in its last axis`)
    const dh = d2 / h
    return { t, heads: true, count: d0 * h, rows: d1, cols: dh, ld: d2, offset: (s) => Math.floor(s / h) * d1 * d2 + (s % h) * dh }
  }
  return { t, heads: false, count: d0, rows: d1, cols: d2, ld: d2, offset: (s) => s * d1 * d2 }
}

/** Builds the kernel; `matMul` is the (overridden) BatchMatMul, `transpose` the overrides' transpose. */
export const make = (matMul: KernelFunc, transpose: TransposeFn, options: HeadMatMulOptions): KernelFunc => (args) => {
  const h = Number(args.attrs?.["heads"])
  if (!(Number.isInteger(h) && h >= 1)) throw new Bug(`${kernelName}: attr heads must be a positive integer, got ${String(args.attrs?.["heads"])}`)
  const transposeA = args.attrs?.["transposeA"] === true
  const transposeB = args.attrs?.["transposeB"] === true
  const outHeads = args.attrs?.["outHeads"] === true
  const a = operand("a", requireInput(kernelName, args, "a"), args.attrs?.["aHeads"] === true, h)
  const b = operand("b", requireInput(kernelName, args, "b"), args.attrs?.["bHeads"] === true, h)
  const M = transposeA ? a.cols : a.rows
  const K = transposeA ? a.rows : a.cols
  const Kb = transposeB ? b.cols : b.rows
  const N = transposeB ? b.rows : b.cols
  if (K !== Kb || a.count !== b.count) {
    throw new Bug(`${kernelName}: operands [${a.t.shape}] and [${b.t.shape}] (heads ${h}, transposeA ${transposeA}, transposeB ${transposeB}) do not match`)
  }
  const count = a.count
  const batch = count / h
  if (!Number.isInteger(batch)) throw new Bug(`${kernelName}: ${count} matrices are not a multiple of ${h} heads`)
  const outShape = outHeads ? [batch, M, h * N] : [count, M, N]
  const backend = internals(args.backend)
  const blas = options.blas ? NativeBlas.active() : undefined
  if (blas === undefined) return composed(backend, matMul, transpose, a, b, h, { transposeA, transposeB, outHeads, outShape })
  const out = backend.makeOutput(outShape, "float32")
  // read the heap view after the allocation (it may have grown the heap)
  const heapF = heap(backend, "float32") as Float32Array
  const a0 = indexOf(backend, a.t)
  const b0 = indexOf(backend, b.t)
  const o0 = indexOf(backend, out)
  const ldc = outHeads ? h * N : N
  const outOffset = (s: number) => outHeads ? Math.floor(s / h) * M * h * N + (s % h) * N : s * M * N
  const span = (x: Operand) => (x.rows - 1) * x.ld + x.cols
  const outSpan = (M - 1) * ldc + N
  const loop = () => {
    for (let s = 0; s < count; s++) {
      const as = a0 + a.offset(s)
      const bs = b0 + b.offset(s)
      const os = o0 + outOffset(s)
      blas.sgemm(
        transposeA, transposeB, M, N, K,
        heapF.subarray(as, as + span(a)), a.ld, heapF.subarray(bs, bs + span(b)), b.ld,
        0, heapF.subarray(os, os + outSpan), ldc
      )
    }
  }
  if (count > 1 && blas.serial !== undefined && 2 * M * K * N <= options.serialMaxFlops) {
    BlasHelper.runSlices(blas, blas.serial, memoryOf(backend), heapF, {
      transposeA, transposeB, M, N, K, lda: a.ld, ldb: b.ld, ldc, spans: [span(a), span(b), outSpan], count,
      offsets: (s) => [a0 + a.offset(s), b0 + b.offset(s), o0 + outOffset(s)]
    }, options.helper)
  } else loop()
  return out
}

/** The composition on contiguous copies (no native BLAS): the pure-wasm path's kernels and bits. */
const composed = (
  backend: WasmBackendInternals,
  matMul: KernelFunc,
  transpose: TransposeFn,
  a: Operand,
  b: Operand,
  h: number,
  p: { readonly transposeA: boolean; readonly transposeB: boolean; readonly outHeads: boolean; readonly outShape: Array<number> }
): TensorInfo => {
  const temps: Array<TensorInfo> = []
  const contiguous = (x: Operand): TensorInfo => {
    if (!x.heads) return x.t
    const [bt, t] = x.t.shape as [number, number]
    const c = transpose(backend, view(x.t, [bt, t, h, x.cols]), [0, 2, 1, 3])
    temps.push(c)
    return view(c, [x.count, x.rows, x.cols])
  }
  try {
    const product = matMul({
      inputs: { a: contiguous(a), b: contiguous(b) },
      backend,
      attrs: { transposeA: p.transposeA, transposeB: p.transposeB }
    }) as TensorInfo
    if (!p.outHeads) return product
    temps.push(product)
    const [bt, m, hn] = p.outShape as [number, number, number]
    const out = transpose(backend, view(product, [bt, h, m, hn / h]), [0, 2, 1, 3])
    out.shape = p.outShape
    return out
  } finally {
    for (const t of temps) free(backend, t)
  }
}
