/**
 * `RekindleAdam`: one pass of Adam with per-element bias correction (the rule of
 * `@rekindle/plugin-optim`'s `scaleByAdam`) over the wasm heap, instead of 17 TF.js kernels (each
 * a full pass over memory, with a fresh output buffer) per parameter and step.
 *
 * Inputs `g, mu, nu, bc1, bc2` (float32, one shape); attrs `b1, b2, eps`. Outputs, in order:
 *   mu'  = b1·mu + (1−b1)·g          nu'  = b2·nu + (1−b2)·g²
 *   bc1' = b1·bc1 + (1−b1)           bc2' = b2·bc2 + (1−b2)
 *   u    = (mu' / bc1') / (sqrt(nu' / bc2') + eps)
 * Every intermediate is rounded to float32 (`Math.fround`) in the same order as the op-by-op
 * composition, so the results equal the composition's bit for bit (IEEE float32 add, mul, div and
 * sqrt; double rounding through float64 is exact for these). Two implementations: `simdKernel`
 * (wasm SIMD on the heap, the default) and `kernel` (the previous JavaScript loop), bit-identical
 * to each other. Optimizers find the kernel with
 * `tf.getKernel(kernelName, backend)` and fall back to the composition where it is missing.
 */
import type { KernelFunc, TensorInfo } from "@tensorflow/tfjs-core"
import { addressOf, kernels } from "./KernelModule.ts"
import { heap, indexOf, internals, sizeOf } from "./WasmHeap.ts"
import { Bug } from "@rekindle/core"

/** The registered kernel name. */
export const kernelName = "RekindleAdam"

interface Prepared {
  readonly n: number
  readonly ins: Array<TensorInfo>
  /** u, mu', nu', bc1', bc2' */
  readonly outs: Array<TensorInfo>
}

const prepare = (args: Parameters<KernelFunc>[0]): Prepared => {
  const names = ["g", "mu", "nu", "bc1", "bc2"] as const
  const ins = names.map((n) => {
    const t = args.inputs[n]
    if (t === undefined) throw new Bug(`${kernelName}: missing input ${n}`)
    if (t.dtype !== "float32") throw new Bug(`${kernelName}: input ${n} must be float32, got ${t.dtype}`)
    return t
  })
  const shape = ins[0]!.shape
  const n = sizeOf(shape)
  for (const t of ins) {
    if (sizeOf(t.shape) !== n) throw new Bug(`${kernelName}: inputs differ in size (${shape} vs ${t.shape})`)
  }
  const backend = internals(args.backend)
  const outs: Array<TensorInfo> = [0, 1, 2, 3, 4].map(() => backend.makeOutput([...shape], "float32"))
  return { n, ins, outs }
}

const attrs = (args: Parameters<KernelFunc>[0]) => {
  const f = Math.fround
  return {
    b1: f(args.attrs?.["b1"] as number),
    b2: f(args.attrs?.["b2"] as number),
    eps: f(args.attrs?.["eps"] as number),
    c1: f(1 - (args.attrs?.["b1"] as number)),
    c2: f(1 - (args.attrs?.["b2"] as number))
  }
}

/** TF.js's output order: mu', nu', bc1', bc2', u. */
const ordered = (outs: Array<TensorInfo>): Array<TensorInfo> => [outs[1]!, outs[2]!, outs[3]!, outs[4]!, outs[0]!]

/** The kernel as a JavaScript loop over the heap (the previous implementation; `simdKernels: false`). */
export const kernel: KernelFunc = (args) => {
  const { n, ins, outs } = prepare(args)
  const { b1, b2, eps, c1, c2 } = attrs(args)
  const f = Math.fround
  const backend = internals(args.backend)
  const h = heap(backend, "float32")
  const [g, mu, nu, bc1, bc2] = ins.map((t) => indexOf(backend, t)) as [number, number, number, number, number]
  const [oU, oMu, oNu, oBc1, oBc2] = outs.map((t) => indexOf(backend, t)) as [number, number, number, number, number]
  for (let i = 0; i < n; i++) {
    const gi = h[g + i]!
    const m = f(f(h[mu + i]! * b1) + f(gi * c1))
    const v = f(f(h[nu + i]! * b2) + f(f(gi * gi) * c2))
    const k1 = f(f(h[bc1 + i]! * b1) + c1)
    const k2 = f(f(h[bc2 + i]! * b2) + c2)
    h[oMu + i] = m
    h[oNu + i] = v
    h[oBc1 + i] = k1
    h[oBc2 + i] = k2
    h[oU + i] = f(m / k1) / f(f(Math.sqrt(f(v / k2))) + eps)
  }
  return ordered(outs)
}

/** The kernel in wasm SIMD (`kernels.adam`): the same float32 operations in the same order, 4 lanes at a time. */
export const simdKernel: KernelFunc = (args) => {
  const { n, ins, outs } = prepare(args)
  const { b1, b2, eps, c1, c2 } = attrs(args)
  const backend = internals(args.backend)
  const [g, mu, nu, bc1, bc2] = ins.map((t) => addressOf(backend, t)) as [number, number, number, number, number]
  const [u, m, v, k1, k2] = outs.map((t) => addressOf(backend, t)) as [number, number, number, number, number]
  kernels(backend).adam(n, g, mu, nu, bc1, bc2, u, m, v, k1, k2, b1, b2, c1, c2, eps)
  return ordered(outs)
}
