/**
 * The fused Q/K/V projection on a native BLAS (QkvAttention.ts), with the parameters kept separate:
 *
 * - `RekindleQkvProject`: inputs `x [n, d]`, `wq, wk, wv [d, d]`, `bq, bk, bv [d]`; output
 *   `[n, 3d] = x·[Wq|Wk|Wv] + [bq|bk|bv]`: the weights gathered into one `[d, 3d]` heap buffer, the
 *   output filled with the bias rows and one `cblas_sgemm` with beta = 1 adding the product;
 * - `RekindleQkvProjectGrad`: inputs `dy [n, 3d]`, `x`, `wq, wk, wv`; outputs `dx = dy·[Wq|Wk|Wv]ᵀ`
 *   (one sgemm, K = 3d), `dwq, dwk, dwv` (one sgemm `xᵀ·dy` into a `[d, 3d]` buffer, copied out)
 *   and `dbq, dbk, dbv` (the column sums of dy: `kernels.colSum`, as the Sum override).
 */
import type { KernelFunc, TensorInfo } from "@tensorflow/tfjs-core"
import { requireInput } from "./FusedArgs.ts"
import { addressOf, kernels } from "./KernelModule.ts"
import * as NativeBlas from "./NativeBlas.ts"
import { free, heap, indexOf, internals, type WasmBackendInternals } from "./WasmHeap.ts"
import { Bug } from "@rekindle/core"

/** Kernel names. */
export const forwardName = "RekindleQkvProject"
export const gradName = "RekindleQkvProjectGrad"

/** `[n, d]` of `x` and the three `[d, d]` weights, checked. */
const weights = (kernel: string, args: Parameters<KernelFunc>[0]) => {
  const x = requireInput(kernel, args, "x")
  const ws = (["wq", "wk", "wv"] as const).map((k) => requireInput(kernel, args, k))
  if (x.shape.length !== 2) throw new Bug(`${kernel}: x must be [n, d], got [${x.shape}]`)
  const [n, d] = x.shape as [number, number]
  for (const w of ws) if (w.shape.length !== 2 || w.shape[0] !== d || w.shape[1] !== d) throw new Bug(`${kernel}: weights must be [${d}, ${d}], got [${w.shape}]`)
  return { x, ws, n, d }
}

/** A `[d, 3d]` heap buffer holding `[Wq|Wk|Wv]` (the caller frees it). */
const gathered = (backend: WasmBackendInternals, ws: ReadonlyArray<TensorInfo>, d: number): TensorInfo => {
  const w = backend.makeOutput([d, 3 * d], "float32")
  const h = heap(backend, "float32") as Float32Array
  const w0 = indexOf(backend, w)
  ws.forEach((part, p) => {
    const s = indexOf(backend, part)
    for (let r = 0; r < d; r++) h.copyWithin(w0 + r * 3 * d + p * d, s + r * d, s + (r + 1) * d)
  })
  return w
}

/** The forward kernel. */
export const forward: KernelFunc = (args) => {
  const { x, ws, n, d } = weights(forwardName, args)
  const bs = (["bq", "bk", "bv"] as const).map((k) => requireInput(forwardName, args, k))
  for (const b of bs) if (b.shape.length !== 1 || b.shape[0] !== d) throw new Bug(`${forwardName}: biases must be [${d}], got [${b.shape}]`)
  const blas = NativeBlas.required(forwardName)
  const backend = internals(args.backend)
  const out = backend.makeOutput([n, 3 * d], "float32")
  const w = gathered(backend, ws, d)
  try {
    const h = heap(backend, "float32") as Float32Array
    const o0 = indexOf(backend, out)
    const width = 3 * d
    // the bias row, then doubled until every row holds it
    bs.forEach((b, p) => h.copyWithin(o0 + p * d, indexOf(backend, b), indexOf(backend, b) + d))
    for (let rows = 1; rows < n; rows *= 2) h.copyWithin(o0 + rows * width, o0, o0 + Math.min(rows, n - rows) * width)
    const x0 = indexOf(backend, x)
    const wi = indexOf(backend, w)
    blas.sgemm(false, false, n, width, d, h.subarray(x0, x0 + n * d), d, h.subarray(wi, wi + d * width), width, 1, h.subarray(o0, o0 + n * width), width)
  } finally {
    free(backend, w)
  }
  return out
}

/** The gradient kernel. */
export const grad: KernelFunc = (args) => {
  const { x, ws, n, d } = weights(gradName, args)
  const dy = requireInput(gradName, args, "dy")
  const width = 3 * d
  if (dy.shape.length !== 2 || dy.shape[0] !== n || dy.shape[1] !== width) throw new Bug(`${gradName}: dy must be [${n}, ${width}], got [${dy.shape}]`)
  const blas = NativeBlas.required(gradName)
  const backend = internals(args.backend)
  const dx = backend.makeOutput([n, d], "float32")
  const dws = ws.map(() => backend.makeOutput([d, d], "float32"))
  const dbs = ws.map(() => backend.makeOutput([d], "float32"))
  const w = gathered(backend, ws, d)
  const dw = backend.makeOutput([d, width], "float32")
  const sums = backend.makeOutput([3 * width], "float32") // the column sums, then their float64 accumulator
  try {
    kernels(backend).colSum(n, width, width, addressOf(backend, dy), addressOf(backend, sums), addressOf(backend, sums) + 4 * width)
    const h = heap(backend, "float32") as Float32Array
    const at = (t: TensorInfo) => indexOf(backend, t)
    const [y0, x0, w0, dw0, dx0] = [at(dy), at(x), at(w), at(dw), at(dx)]
    blas.sgemm(false, true, n, d, width, h.subarray(y0, y0 + n * width), width, h.subarray(w0, w0 + d * width), width, 0, h.subarray(dx0, dx0 + n * d), d)
    blas.sgemm(true, false, d, width, n, h.subarray(x0, x0 + n * d), d, h.subarray(y0, y0 + n * width), width, 0, h.subarray(dw0, dw0 + d * width), width)
    dws.forEach((t, p) => {
      const s = at(t)
      for (let r = 0; r < d; r++) h.copyWithin(s + r * d, dw0 + r * width + p * d, dw0 + r * width + (p + 1) * d)
    })
    dbs.forEach((t, p) => h.copyWithin(at(t), at(sums) + p * d, at(sums) + (p + 1) * d))
  } finally {
    for (const t of [w, dw, sums]) free(backend, t)
  }
  return [dx, ...dws, ...dbs]
}
