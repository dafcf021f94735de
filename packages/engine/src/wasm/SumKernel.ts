/**
 * Sum over leading axes (the bias gradient: `[B, T, d] -> [d]`) on the heap. The stock wasm
 * kernel moves the reduced axes last with its slow transpose first; this one accumulates rows
 * in a float64 buffer (more accurate than float32 accumulation, and cache friendly). Other axis
 * sets and dtypes go to the stock kernel. With `simd`, float32 runs `kernels.colSum` (wasm SIMD,
 * the same float64 additions in the same order: the same bits as the JavaScript loop).
 */
import { type KernelFunc, util } from "@tensorflow/tfjs-core"
import * as KernelHelper from "./KernelHelper.ts"
import { addressOf } from "./KernelModule.ts"
import { free, heap, indexOf, internals, sizeOf } from "./WasmHeap.ts"

/** Whether `axes` (sorted) are exactly the first k < rank axes. */
const isLeading = (axes: ReadonlyArray<number>, rank: number): boolean =>
  axes.length > 0 && axes.length < rank && axes.every((ax, i) => ax === i)

/** Builds the override around the stock kernel function. */
export const make = (stock: KernelFunc, simd = false): KernelFunc => (args) => {
  const x = args.inputs["x"]!
  const rank = x.shape.length
  if ((x.dtype !== "float32" && x.dtype !== "int32") || rank === 0) return stock(args)
  const axes = util.parseAxisParam(args.attrs?.["axis"] as number | Array<number>, x.shape).sort((p, q) => p - q)
  if (!isLeading(axes, rank)) return stock(args)
  const keepDims = args.attrs?.["keepDims"] === true
  const k = axes.length
  const R = sizeOf(x.shape.slice(0, k))
  const C = sizeOf(x.shape.slice(k))
  const outShape = keepDims ? x.shape.map((d, i) => (i < k ? 1 : d)) : x.shape.slice(k)
  const backend = internals(args.backend)
  const out = backend.makeOutput(outShape, x.dtype)
  if (simd && x.dtype === "float32") {
    const acc = backend.makeOutput([2 * C], "float32")
    const [xp, op, ap] = [addressOf(backend, x), addressOf(backend, out), addressOf(backend, acc)]
    try {
      // split by column ranges (each column's sum in row order: the same bits)
      KernelHelper.run(backend, "colSum", Math.ceil(C / 4), R * C, (first, end) => {
        const c = 4 * first
        return [R, Math.min(C, 4 * end) - c, C, xp + 4 * c, op + 4 * c, ap + 8 * c]
      })
    } finally {
      free(backend, acc)
    }
    return out
  }
  const h = heap(backend, x.dtype)
  const xo = indexOf(backend, x)
  const oo = indexOf(backend, out)
  const acc = new Float64Array(C)
  for (let i = 0; i < R; i++) {
    const ro = xo + i * C
    for (let j = 0; j < C; j++) acc[j]! += h[ro + j]!
  }
  for (let j = 0; j < C; j++) h[oo + j] = acc[j]!
  return out
}
