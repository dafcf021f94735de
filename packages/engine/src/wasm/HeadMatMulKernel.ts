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
 * With `aParts`/`bParts` P > 1 (native BLAS only), a heads-layout operand is `[B, T, P·H·D]` and part
 * `aPart`/`bPart` of its last axis is read (q, k or v of the fused projection, QkvAttention.ts).
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

/** Where a product's matrices (an operand's or the output's) are and how they are laid out. */
export interface Layout {
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

/**
 * The layout of a `[d0, d1, d2]` tensor: with `isHeads`, part `part` of `parts` equal parts of the
 * last axis read as d0·h matrices `[d1, D]` (row stride d2; part 0 of 1: the whole `[B, T, H·D]`);
 * else d0 contiguous matrices `[d1, d2]`.
 */
export const layout = (name: string, shape: ReadonlyArray<number>, isHeads: boolean, h: number, part = 0, parts = 1): Layout => {
  if (shape.length !== 3) throw new Bug(`${kernelName}: ${name} must be rank 3, got [${shape}]`)
  const [d0, d1, d2] = shape as [number, number, number]
  if (isHeads) {
    const width = d2 / parts
    if (!(Number.isInteger(parts) && parts >= 1 && Number.isInteger(part) && part >= 0 && part < parts)) {
      throw new Bug(`${kernelName}: ${name} part ${part} of ${parts} is not a part`)
    }
    if (!Number.isInteger(width) || width % h !== 0) throw new Bug(`${kernelName}: ${name} [${shape}] has no ${h} heads in its last axis (${parts} parts)`)
    const dh = width / h
    return { heads: true, count: d0 * h, rows: d1, cols: dh, ld: d2, offset: (s) => Math.floor(s / h) * d1 * d2 + part * width + (s % h) * dh }
  }
  return { heads: false, count: d0, rows: d1, cols: d2, ld: d2, offset: (s) => s * d1 * d2 }
}

/** One operand: its tensor and layout. */
interface Operand extends Layout {
  readonly t: TensorInfo
}

const operand = (name: string, t: TensorInfo, isHeads: boolean, h: number, part: number, parts: number): Operand => ({
  t,
  ...layout(name, t.shape, isHeads, h, part, parts)
})

/** A part attr (`aPart`, `aParts`, ...): a whole number, `fallback` when absent. */
const partAttr = (args: Parameters<KernelFunc>[0], name: string, fallback: number): number => {
  const v = args.attrs?.[name]
  return v === undefined ? fallback : Number(v)
}

/** One product on the heap: `op(a)·op(b)` per matrix into `out`, at heap element offsets `a0`, `b0`, `o0`. */
export interface HeapProduct {
  readonly transposeA: boolean
  readonly transposeB: boolean
  readonly a: Layout
  readonly b: Layout
  readonly out: Layout
  readonly a0: number
  readonly b0: number
  readonly o0: number
}

/** The sizes M, K, N of `p`, checked (the kernel named in errors). */
const sizes = (p: Pick<HeapProduct, "transposeA" | "transposeB" | "a" | "b">, what: string): { M: number; K: number; N: number } => {
  const M = p.transposeA ? p.a.cols : p.a.rows
  const K = p.transposeA ? p.a.rows : p.a.cols
  const Kb = p.transposeB ? p.b.cols : p.b.rows
  const N = p.transposeB ? p.b.rows : p.b.cols
  if (K !== Kb || p.a.count !== p.b.count) throw new Bug(`${what} (transposeA ${p.transposeA}, transposeB ${p.transposeB}) do not match`)
  return { M, K, N }
}

/**
 * Runs `p` as one `cblas_sgemm` per matrix on `blas` (small products on one library thread, split
 * with the helper thread: `options`). `heapF` is read after every allocation.
 */
export const runProduct = (blas: NativeBlas.Blas, backend: WasmBackendInternals, heapF: Float32Array, p: HeapProduct, options: HeadMatMulOptions): void => {
  const { transposeA, transposeB, a, b, out } = p
  const { M, K, N } = sizes(p, kernelName)
  const count = a.count
  if (out.count !== count || out.rows !== M || out.cols !== N) throw new Bug(`${kernelName}: output matrices ${out.count} × [${out.rows}, ${out.cols}] do not match ${count} × [${M}, ${N}]`)
  const span = (x: Layout) => (x.rows - 1) * x.ld + x.cols
  if (count > 1 && blas.serial !== undefined && 2 * M * K * N <= options.serialMaxFlops) {
    BlasHelper.runSlices(blas, blas.serial, memoryOf(backend), heapF, {
      transposeA, transposeB, M, N, K, lda: a.ld, ldb: b.ld, ldc: out.ld, spans: [span(a), span(b), span(out)], count,
      offsets: (s) => [p.a0 + a.offset(s), p.b0 + b.offset(s), p.o0 + out.offset(s)]
    }, options.helper)
    return
  }
  for (let s = 0; s < count; s++) {
    const as = p.a0 + a.offset(s)
    const bs = p.b0 + b.offset(s)
    const os = p.o0 + out.offset(s)
    blas.sgemm(
      transposeA, transposeB, M, N, K,
      heapF.subarray(as, as + span(a)), a.ld, heapF.subarray(bs, bs + span(b)), b.ld,
      0, heapF.subarray(os, os + span(out)), out.ld
    )
  }
}

/**
 * Builds the kernel; `matMul` is the (overridden) BatchMatMul, `transpose` the overrides' transpose.
 * Attrs `aPart`/`aParts`, `bPart`/`bParts` (default 0 of 1) read a heads-layout operand from a part
 * of its last axis (q, k, v in one `[B, T, 3·H·D]` projection); native BLAS only.
 */
export const make = (matMul: KernelFunc, transpose: TransposeFn, options: HeadMatMulOptions): KernelFunc => (args) => {
  const h = Number(args.attrs?.["heads"])
  if (!(Number.isInteger(h) && h >= 1)) throw new Bug(`${kernelName}: attr heads must be a positive integer, got ${String(args.attrs?.["heads"])}`)
  const transposeA = args.attrs?.["transposeA"] === true
  const transposeB = args.attrs?.["transposeB"] === true
  const outHeads = args.attrs?.["outHeads"] === true
  const aParts = partAttr(args, "aParts", 1)
  const bParts = partAttr(args, "bParts", 1)
  const a = operand("a", requireInput(kernelName, args, "a"), args.attrs?.["aHeads"] === true, h, partAttr(args, "aPart", 0), aParts)
  const b = operand("b", requireInput(kernelName, args, "b"), args.attrs?.["bHeads"] === true, h, partAttr(args, "bPart", 0), bParts)
  const { M, N } = sizes({ transposeA, transposeB, a, b }, `${kernelName}: operands [${a.t.shape}] and [${b.t.shape}] (heads ${h})`)
  const count = a.count
  const batch = count / h
  if (!Number.isInteger(batch)) throw new Bug(`${kernelName}: ${count} matrices are not a multiple of ${h} heads`)
  const outShape = outHeads ? [batch, M, h * N] : [count, M, N]
  const backend = internals(args.backend)
  const blas = options.blas ? NativeBlas.active() : undefined
  if (blas === undefined) {
    if (aParts !== 1 || bParts !== 1) throw new Bug(`${kernelName}: operands read from parts need the native BLAS`)
    return composed(backend, matMul, transpose, a, b, h, { transposeA, transposeB, outHeads, outShape })
  }
  const out = backend.makeOutput(outShape, "float32")
  // read the heap view after the allocation (it may have grown the heap)
  const heapF = heap(backend, "float32") as Float32Array
  runProduct(blas, backend, heapF, {
    transposeA, transposeB, a, b, out: layout("out", outShape, outHeads, h),
    a0: indexOf(backend, a.t), b0: indexOf(backend, b.t), o0: indexOf(backend, out)
  }, options)
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
