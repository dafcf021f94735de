/**
 * Slice as a heap-to-heap copy. The stock wasm kernel first copies the WHOLE input into a fresh
 * JavaScript buffer (`backend.readSync(x)`) and then copies the slice, so slicing one head out of
 * a large activation costs a full read-back. This one copies contiguous runs directly on the heap
 * (trailing axes taken whole merge into one run). float32, int32 and bool; others go to stock.
 */
import { type KernelFunc, slice_util, type TensorInfo } from "@tensorflow/tfjs-core"
import { bytesPerElement, heap, indexOf, internals, sizeOf, stridesOf } from "./WasmHeap.ts"

/** Builds the override around the stock kernel function. */
export const make = (stock: KernelFunc): KernelFunc => (args) => {
  const x = args.inputs["x"]!
  if (bytesPerElement(x.dtype) === undefined) return stock(args)
  const backend = internals(args.backend)
  const [begin, size] = slice_util.parseSliceParams(
    x,
    args.attrs?.["begin"] as number | Array<number>,
    args.attrs?.["size"] as number | Array<number> | undefined
  ) as [Array<number>, Array<number>]
  const out: TensorInfo = backend.makeOutput(size, x.dtype)
  if (sizeOf(size) === 0) return out
  const rank = x.shape.length
  if (rank === 0) {
    const h = heap(backend, x.dtype)
    h[indexOf(backend, out)] = h[indexOf(backend, x)]!
    return out
  }
  const strides = stridesOf(x.shape)
  // dims [r, rank) form one contiguous run of `run` elements starting at begin[r]
  let r = rank - 1
  let run = size[r]!
  while (r > 0 && size[r] === x.shape[r] && begin[r] === 0) {
    r--
    run *= size[r]!
  }
  const outer = r
  const count = sizeOf(size.slice(0, outer))
  const idx = new Array<number>(outer).fill(0)
  const h = heap(backend, x.dtype)
  const xo = indexOf(backend, x)
  let d = indexOf(backend, out)
  for (let it = 0; it < count; it++) {
    let src = xo + begin[r]! * strides[r]!
    for (let j = 0; j < outer; j++) src += (begin[j]! + idx[j]!) * strides[j]!
    if (run >= 16) h.copyWithin(d, src, src + run)
    else for (let q = 0; q < run; q++) h[d + q] = h[src + q]!
    d += run
    for (let j = outer - 1; j >= 0; j--) {
      if (++idx[j]! < size[j]!) break
      idx[j] = 0
    }
  }
  return out
}
