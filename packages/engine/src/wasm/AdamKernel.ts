/**
 * `RekindleAdam`: one pass of Adam with per-element bias correction (the rule of
 * `@rekindle/plugin-optim`'s `scaleByAdam`) over the wasm heap, instead of 17 TF.js kernels (each
 * a full pass over memory, with a fresh output buffer) per parameter and step.
 *
 * Inputs `g, mu, nu, bc1, bc2` (float32, one shape); attrs `b1, b2, eps`. Outputs, in order:
 *   mu'  = b1·mu + (1−b1)·g          nu'  = b2·nu + (1−b2)·g²
 *   bc1' = b1·bc1 + (1−b1)           bc2' = b2·bc2 + (1−b2)
 *   u    = (mu' / bc1') / (sqrt(nu' / bc2') + eps)
 * `RekindleAdamW` is the same kernel with the rest of the optimizer chain's tail inside (one pass
 * instead of up to four TF.js kernels per parameter): an optional input `p` (the parameter) with
 * attr `wd` adds the decoupled weight decay, and attr `scale` (the learning-rate factor −lr)
 * multiplies last:
 *   u    = ((mu' / bc1') / (sqrt(nu' / bc2') + eps) + p·wd)·scale
 * in the order `scaleByAdam → addDecayedWeights → scaleByLearningRate` compose them.
 * `RekindleAdamWApply` is `RekindleAdamW` with the parameter update applied too: input `p` is
 * required (and decays only with `wd`), and the last output is `p + u` (the new parameter, one
 * float32 add: the bits of TF.js's `Add` of the two) instead of u; one pass instead of two.
 * Every intermediate is rounded to float32 (`Math.fround`) in the same order as the op-by-op
 * composition, so the results equal the composition's bit for bit (IEEE float32 add, mul, div and
 * sqrt; double rounding through float64 is exact for these). Two implementations: `simdKernel`
 * (wasm SIMD on the heap, the default) and `kernel` (the previous JavaScript loop), bit-identical
 * to each other. Optimizers find the kernel with
 * `tf.getKernel(kernelName, backend)` and fall back to the composition where it is missing.
 */
import type { KernelFunc, TensorInfo } from "@tensorflow/tfjs-core"
import * as KernelHelper from "./KernelHelper.ts"
import { addressOf } from "./KernelModule.ts"
import { heap, indexOf, internals, sizeOf } from "./WasmHeap.ts"
import { Bug } from "@rekindle/core"

/** The registered kernel name. */
export const kernelName = "RekindleAdam"

/** The kernel with the decay and learning-rate tail (the same kernel functions, another name). */
export const tailKernelName = "RekindleAdamW"

/** The tail kernel that returns the updated parameter `p + u` (see the module comment). */
export const applyKernelName = "RekindleAdamWApply"

interface Prepared {
  readonly n: number
  readonly ins: Array<TensorInfo>
  /** The parameter, when the weight decay is applied. */
  readonly p: TensorInfo | undefined
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
  const p = args.inputs["p"]
  if (p !== undefined && (p.dtype !== "float32" || sizeOf(p.shape) !== n)) {
    throw new Bug(`${kernelName}: input p must be float32 of size ${n}, got ${p.dtype} [${p.shape}]`)
  }
  const backend = internals(args.backend)
  const outs: Array<TensorInfo> = [0, 1, 2, 3, 4].map(() => backend.makeOutput([...shape], "float32"))
  return { n, ins, p, outs }
}

const attrs = (args: Parameters<KernelFunc>[0]) => {
  const f = Math.fround
  const wd = args.attrs?.["wd"] as number | undefined
  const scale = args.attrs?.["scale"] as number | undefined
  return {
    b1: f(args.attrs?.["b1"] as number),
    b2: f(args.attrs?.["b2"] as number),
    eps: f(args.attrs?.["eps"] as number),
    c1: f(1 - (args.attrs?.["b1"] as number)),
    c2: f(1 - (args.attrs?.["b2"] as number)),
    /** the decay is applied when `p` is given and `wd` is a number other than 0 */
    wd: wd === undefined ? 0 : f(wd),
    hasScale: scale !== undefined,
    scale: scale === undefined ? 1 : f(scale),
    /** the last output is p + u */
    apply: args.attrs?.["apply"] === true
  }
}

/** TF.js's output order: mu', nu', bc1', bc2', u. */
const ordered = (outs: Array<TensorInfo>): Array<TensorInfo> => [outs[1]!, outs[2]!, outs[3]!, outs[4]!, outs[0]!]

/** The kernel as a JavaScript loop over the heap (the previous implementation; `simdKernels: false`). */
export const kernel: KernelFunc = (args) => {
  const { n, ins, p, outs } = prepare(args)
  const { b1, b2, eps, c1, c2, wd, hasScale, scale, apply } = attrs(args)
  const f = Math.fround
  if (apply && p === undefined) throw new Bug(`${applyKernelName}: missing input p`)
  const backend = internals(args.backend)
  const h = heap(backend, "float32")
  const decay = p !== undefined && wd !== 0
  const pi = p === undefined ? 0 : indexOf(backend, p)
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
    let u = f(f(m / k1) / f(f(Math.sqrt(f(v / k2))) + eps))
    if (decay) u = f(u + f(h[pi + i]! * wd))
    if (hasScale) u = f(u * scale)
    if (apply) u = f(h[pi + i]! + u)
    h[oU + i] = u
  }
  return ordered(outs)
}

/** The kernel in wasm SIMD (`kernels.adam`): the same float32 operations in the same order, 4 lanes at a time. */
export const simdKernel: KernelFunc = (args) => {
  const { n, ins, p, outs } = prepare(args)
  const { b1, b2, eps, c1, c2, wd, hasScale, scale, apply } = attrs(args)
  if (apply && p === undefined) throw new Bug(`${applyKernelName}: missing input p`)
  const backend = internals(args.backend)
  const [g, mu, nu, bc1, bc2] = ins.map((t) => addressOf(backend, t)) as [number, number, number, number, number]
  const [u, m, v, k1, k2] = outs.map((t) => addressOf(backend, t)) as [number, number, number, number, number]
  const decay = p !== undefined && wd !== 0
  const pp = p === undefined ? 0 : addressOf(backend, p)
  // blocks of 4 elements (one SIMD step): every slice but the last has no scalar tail
  KernelHelper.run(backend, "adam", Math.ceil(n / 4), n, (first, end) => {
    const o = 16 * first
    return [
      Math.min(n, 4 * end) - 4 * first, g + o, mu + o, nu + o, bc1 + o, bc2 + o, u + o, m + o, v + o, k1 + o, k2 + o,
      b1, b2, c1, c2, eps, decay ? 1 : 0, pp === 0 ? 0 : pp + o, wd, hasScale ? 1 : 0, scale, apply ? 1 : 0
    ]
  })
  return ordered(outs)
}

/** `kernel` as `RekindleAdamWApply`: the last output is the updated parameter `p + u`. */
export const applying = (k: KernelFunc): KernelFunc => (args) => k({ ...args, attrs: { ...args.attrs, apply: true } })
