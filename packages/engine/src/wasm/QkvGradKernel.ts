/**
 * `RekindleQkvGrad`: the gradient of attention's head products with respect to q, k and v when they
 * are read in place from one `[B, T, 3·H·D]` projection (`[q | k | v]` on the last axis; see
 * QkvAttention.ts), written into one `[B, T, 3·H·D]` buffer: dq = dS·k, dk = dSᵀ·q, dv = Pᵀ·dctx,
 * each per head as one `cblas_sgemm` reading and writing its part with the row stride 3·H·D (the
 * products of `RekindleHeadMatMul`'s gradient, so the same bits as on separate q, k, v).
 *
 * Inputs `ds` (the scores' gradient) and `p` (the attention weights), `[B·H, T, T]`; `dctx` (the
 * context's gradient, `[B, T, H·D]`); `qkv`. Attr `heads`. Native BLAS only.
 */
import type { KernelFunc } from "@tensorflow/tfjs-core"
import { requireInput } from "./FusedArgs.ts"
import { type HeadMatMulOptions, layout, runProduct } from "./HeadMatMulKernel.ts"
import * as NativeBlas from "./NativeBlas.ts"
import { heap, indexOf, internals } from "./WasmHeap.ts"
import { Bug } from "@rekindle/core"

/** Kernel name. */
export const kernelName = "RekindleQkvGrad"

/** Builds the kernel (the head products' options). */
export const make = (options: HeadMatMulOptions): KernelFunc => (args) => {
  const h = Number(args.attrs?.["heads"])
  if (!(Number.isInteger(h) && h >= 1)) throw new Bug(`${kernelName}: attr heads must be a positive integer, got ${String(args.attrs?.["heads"])}`)
  const ds = requireInput(kernelName, args, "ds")
  const p = requireInput(kernelName, args, "p")
  const dctx = requireInput(kernelName, args, "dctx")
  const qkv = requireInput(kernelName, args, "qkv")
  const blas = NativeBlas.required(kernelName)
  const backend = internals(args.backend)
  const out = backend.makeOutput([...qkv.shape], "float32")
  // read the heap view after the allocation (it may have grown the heap)
  const heapF = heap(backend, "float32") as Float32Array
  const at = { ds: indexOf(backend, ds), p: indexOf(backend, p), dctx: indexOf(backend, dctx), qkv: indexOf(backend, qkv), out: indexOf(backend, out) }
  const batched = (name: string, shape: ReadonlyArray<number>) => layout(name, shape, false, h)
  const part = (name: string, i: number) => layout(name, qkv.shape, true, h, i, 3)
  const ctx = layout("dctx", dctx.shape, true, h)
  // dq = dS·k, dk = dSᵀ·q, dv = Pᵀ·dctx
  runProduct(blas, backend, heapF, { transposeA: false, transposeB: false, a: batched("ds", ds.shape), b: part("k", 1), out: part("dq", 0), a0: at.ds, b0: at.qkv, o0: at.out }, options)
  runProduct(blas, backend, heapF, { transposeA: true, transposeB: false, a: batched("ds", ds.shape), b: part("q", 0), out: part("dk", 1), a0: at.ds, b0: at.qkv, o0: at.out }, options)
  runProduct(blas, backend, heapF, { transposeA: true, transposeB: false, a: batched("p", p.shape), b: ctx, out: part("dv", 2), a0: at.p, b0: at.dctx, o0: at.out }, options)
  return out
}
