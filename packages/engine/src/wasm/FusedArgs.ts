/** Input checks shared by the fused wasm SIMD kernels. */
import type { KernelFunc, TensorInfo } from "@tensorflow/tfjs-core"
import { Bug } from "@rekindle/core"

/** Input `name` of a kernel call, which must be present and have `dtype`. */
export const requireInput = (kernel: string, args: Parameters<KernelFunc>[0], name: string, dtype = "float32"): TensorInfo => {
  const t = args.inputs[name]
  if (t === undefined) throw new Bug(`${kernel}: missing input ${name}`)
  if (t.dtype !== dtype) throw new Bug(`${kernel}: input ${name} must be ${dtype}, got ${t.dtype}`)
  return t
}

/** The optional input `name` (checked like {@link requireInput} when present). */
export const optionalInput = (kernel: string, args: Parameters<KernelFunc>[0], name: string): TensorInfo | undefined =>
  args.inputs[name] === undefined ? undefined : requireInput(kernel, args, name)

/** `[rows, cols]` of a tensor seen as rows of its last axis. */
export const rowsOf = (kernel: string, name: string, t: TensorInfo): [number, number] => {
  if (t.shape.length === 0) throw new Bug(`${kernel}: ${name} must have at least one axis`)
  const cols = t.shape[t.shape.length - 1]!
  const size = t.shape.reduce((a, b) => a * b, 1)
  return [cols === 0 ? 0 : size / cols, cols]
}

/** Throws unless `t` has `count` elements. */
export const expectSize = (kernel: string, name: string, t: TensorInfo, count: number): void => {
  const size = t.shape.reduce((a, b) => a * b, 1)
  if (size !== count) throw new Bug(`${kernel}: ${name} must have ${count} elements, got shape [${t.shape}]`)
}
