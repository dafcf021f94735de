/**
 * UnsortedSegmentSum, which tfjs-backend-wasm 4.22 does not register at all: without it the
 * gradient of `tf.gather` (an embedding lookup) throws on wasm. Accumulates on the heap;
 * segment ids outside `[0, numSegments)` are dropped (as TensorFlow does). float32 and int32 data.
 * `simdKernel` runs float32 in wasm SIMD (`kernels.segmentSum`: the same float32 additions in the
 * same order, so the same bits); `kernel` is the JavaScript loop (int32 always, float32 with
 * `simdKernels: false`).
 */
import type { KernelFunc } from "@tensorflow/tfjs-core"
import { addressOf, kernels } from "./KernelModule.ts"
import { heap, indexOf, internals, sizeOf } from "./WasmHeap.ts"
import { Bug } from "@rekindle/core"

/** The kernel in wasm SIMD for float32 with segment ids of any rank; the JavaScript loop otherwise. */
export const simdKernel: KernelFunc = (args) => {
  const x = args.inputs["x"]!
  const segmentIds = args.inputs["segmentIds"]!
  const n = sizeOf(segmentIds.shape)
  if (x.dtype !== "float32" || segmentIds.dtype !== "int32" || n === 0) return kernel(args)
  const numSegments = args.attrs?.["numSegments"] as number
  const backend = internals(args.backend)
  const inner = sizeOf(x.shape) / n
  const out = backend.makeOutput([numSegments, ...x.shape.slice(segmentIds.shape.length)], x.dtype)
  kernels(backend).segmentSum(n, inner, addressOf(backend, x), addressOf(backend, segmentIds), numSegments, addressOf(backend, out))
  return out
}

/** The kernel function as a JavaScript loop (no stock kernel to wrap). */
export const kernel: KernelFunc = (args) => {
  const x = args.inputs["x"]!
  const segmentIds = args.inputs["segmentIds"]!
  const numSegments = args.attrs?.["numSegments"] as number
  if (x.dtype !== "float32" && x.dtype !== "int32") {
    throw new Bug(`UnsortedSegmentSum on wasm supports float32 and int32, got ${x.dtype}`)
  }
  if (segmentIds.dtype !== "int32") throw new Bug(`UnsortedSegmentSum needs int32 segment ids, got ${segmentIds.dtype}`)
  const backend = internals(args.backend)
  const n = sizeOf(segmentIds.shape)
  const inner = n === 0 ? sizeOf(x.shape.slice(segmentIds.shape.length)) : sizeOf(x.shape) / n
  const out = backend.makeOutput([numSegments, ...x.shape.slice(segmentIds.shape.length)], x.dtype)
  const h = heap(backend, x.dtype)
  const ids = heap(backend, "int32")
  const xo = n === 0 ? 0 : indexOf(backend, x)
  const so = n === 0 ? 0 : indexOf(backend, segmentIds)
  const oo = indexOf(backend, out)
  h.fill(0, oo, oo + numSegments * inner)
  for (let i = 0; i < n; i++) {
    const s = ids[so + i]!
    if (s < 0 || s >= numSegments) continue
    const d = oo + s * inner
    const src = xo + i * inner
    for (let j = 0; j < inner; j++) h[d + j]! += h[src + j]!
  }
  return out
}
