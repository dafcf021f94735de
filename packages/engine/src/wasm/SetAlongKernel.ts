/**
 * `RekindleSetAlong` (core's `Slices.setAlongKernel`, behind `Slices.mergeAlong` / `fillAlong`):
 * inputs `x` and optionally `source` (same shape, float32), attrs `axis`, `indices`, `value`. The
 * output is a copy of `x` (one heap `copyWithin`) whose slices at `indices` along `axis` are then
 * overwritten with `source`'s elements (or `value`). Bit for bit what `where(sliceMask, source, x)`
 * gives, without the full-size mask, the filled tensor and the select kernel.
 */
import type { KernelFunc, TensorInfo } from "@tensorflow/tfjs-core"
import { Bug, Slices } from "@rekindle/core"
import { heap, indexOf, internals, sizeOf } from "./WasmHeap.ts"

/** The kernel's name. */
export const kernelName = Slices.setAlongKernel

const float32 = (t: TensorInfo | undefined, name: string): TensorInfo => {
  if (t === undefined) throw new Bug(`SetAlong kernel: missing input ${name}`)
  if (t.dtype !== "float32") throw new Bug(`SetAlong kernel: input ${name} must be float32, got ${t.dtype}`)
  return t
}

/** The kernel. */
export const kernel: KernelFunc = (args) => {
  const x = float32(args.inputs["x"], "x")
  const source = args.inputs["source"] === undefined ? undefined : float32(args.inputs["source"], "source")
  if (source !== undefined && source.shape.join() !== x.shape.join()) throw new Bug(`SetAlong kernel: shapes [${x.shape}] and [${source.shape}] differ`)
  const axis = args.attrs?.["axis"] as number
  const indices = args.attrs?.["indices"] as ReadonlyArray<number>
  const value = args.attrs?.["value"] as number
  const n = x.shape[axis]
  if (n === undefined) throw new Bug(`SetAlong kernel: no axis ${axis} in shape [${x.shape}]`)
  for (const i of indices) if (!Number.isInteger(i) || i < 0 || i >= n) throw new Bug(`SetAlong kernel: index ${i} out of range [0, ${n})`)
  const size = sizeOf(x.shape)
  const inner = sizeOf(x.shape.slice(axis + 1))
  const outer = sizeOf(x.shape.slice(0, axis))
  const backend = internals(args.backend)
  const out = backend.makeOutput([...x.shape], "float32")
  const h = heap(backend, "float32")
  const xo = indexOf(backend, x)
  const oo = indexOf(backend, out)
  h.copyWithin(oo, xo, xo + size)
  const so = source === undefined ? -1 : indexOf(backend, source)
  for (let o = 0; o < outer; o++) {
    for (const i of indices) {
      const start = (o * n + i) * inner
      if (so < 0) {
        if (inner === 1) h[oo + start] = value
        else h.fill(value, oo + start, oo + start + inner)
      } else if (inner === 1) {
        h[oo + start] = h[so + start]!
      } else {
        h.copyWithin(oo + start, so + start, so + start + inner)
      }
    }
  }
  return out
}
