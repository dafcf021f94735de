/**
 * GatherV2 without batch dims (embedding lookups, picking rows at target positions, picking
 * elements of a flat tensor; along later axes: picking neurons' columns of W_in) as heap-to-heap
 * copies of the slices along the axis, per block of the axes before it. The stock wasm kernel reads the
 * indices back, then runs a generic per-element C++ loop (~30 ms for the reference embedding
 * lookup, 2048 rows of 256; ~0.5 ms for 51 columns of a [256, 1024] matrix). Same checks as
 * stock: every index must lie in [0, rows). float32, int32 and bool; batch dims and other dtypes
 * go to the stock kernel.
 */
import { type KernelFunc, type TensorInfo, util } from "@tensorflow/tfjs-core"
import { bytesPerElement, heap, indexOf, internals, sizeOf } from "./WasmHeap.ts"
import { Bug } from "@rekindle/core"

/** Builds the override around the stock kernel function. */
export const make = (stock: KernelFunc): KernelFunc => (args) => {
  const x = args.inputs["x"]!
  const indices = args.inputs["indices"]!
  const batchDims = (args.attrs?.["batchDims"] as number | undefined) ?? 0
  if (bytesPerElement(x.dtype) === undefined || indices.dtype !== "int32" || batchDims !== 0 || x.shape.length === 0) return stock(args)
  const axis = util.parseAxisParam(args.attrs?.["axis"] as number, x.shape)[0]!
  const backend = internals(args.backend)
  const rows = x.shape[axis]!
  const outer = sizeOf(x.shape.slice(0, axis))
  const row = sizeOf(x.shape.slice(axis + 1))
  const n = sizeOf(indices.shape)
  const out: TensorInfo = backend.makeOutput([...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)], x.dtype)
  if (n === 0 || row === 0 || outer === 0) return out
  const ids = heap(backend, "int32")
  const io = indexOf(backend, indices)
  for (let i = 0; i < n; i++) {
    const index = ids[io + i]!
    if (!(index >= 0 && index <= rows - 1)) {
      backend.disposeData(out.dataId)
      throw new Bug(`GatherV2: the index value ${index} is not in [0, ${rows - 1}]`)
    }
  }
  const h = heap(backend, x.dtype)
  let d = indexOf(backend, out)
  for (let o = 0; o < outer; o++) {
    const xo = indexOf(backend, x) + o * rows * row
    if (row === 1) {
      for (let i = 0; i < n; i++) h[d + i] = h[xo + ids[io + i]!]!
      d += n
      continue
    }
    for (let i = 0; i < n; i++) {
      const s = xo + ids[io + i]! * row
      if (row >= 16) h.copyWithin(d, s, s + row)
      else for (let q = 0; q < row; q++) h[d + q] = h[s + q]!
      d += row
    }
  }
  return out
}
