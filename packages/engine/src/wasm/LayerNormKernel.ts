/**
 * LayerNorm over the last axis of a 2-D `x` `[n, d]` as two kernels, one pass each over the heap,
 * instead of ~10 TF.js kernels forward and ~20 backward (each a full pass with a fresh output):
 *
 * - `RekindleLayerNorm`: inputs `x [n,d], gain [d], bias [d]`, attr `eps`; outputs
 *   `y = (x − mean)·rstd·gain + bias`, `mean [n]`, `rstd [n] = 1/sqrt(var + eps)` (biased variance);
 * - `RekindleLayerNormGrad`: inputs `dy, x, gain, mean, rstd`; outputs `dx, dgain, dbias` with
 *   x̂ = (x − mean)·rstd, g = dy·gain:  dx = rstd·(g − mean(g) − x̂·mean(g·x̂)),
 *   dgain = Σ_rows dy·x̂,  dbias = Σ_rows dy.
 *
 * Two implementations: the wasm SIMD kernels of `kernels.wasm` (the default; row sums in four
 * float32 lanes combined in float64, column sums in float64) and the previous JavaScript loops
 * (float64 throughout). Both agree with the float32 composition to float32 rounding. float32 only;
 * the model falls back to the composition on backends without these kernels. The SIMD set adds
 * `RekindleAddLayerNorm` (residual add + LayerNorm) and the gradient's optional input `ds`.
 */
import type { KernelFunc, TensorInfo } from "@tensorflow/tfjs-core"
import * as KernelHelper from "./KernelHelper.ts"
import { addressOf, kernels } from "./KernelModule.ts"
import { free, heap, indexOf, internals } from "./WasmHeap.ts"
import { Bug } from "@rekindle/core"

/** Kernel names. */
export const forwardName = "RekindleLayerNorm"
export const gradName = "RekindleLayerNormGrad"

const input = (args: Parameters<KernelFunc>[0], name: string): TensorInfo => {
  const t = args.inputs[name]
  if (t === undefined) throw new Bug(`LayerNorm kernel: missing input ${name}`)
  if (t.dtype !== "float32") throw new Bug(`LayerNorm kernel: input ${name} must be float32, got ${t.dtype}`)
  return t
}

const dims = (x: TensorInfo, gain: TensorInfo): [number, number] => {
  if (x.shape.length !== 2) throw new Bug(`LayerNorm kernel: x must be 2-D, got shape ${x.shape}`)
  const [n, d] = x.shape as [number, number]
  if (gain.shape.reduce((a, b) => a * b, 1) !== d) throw new Bug(`LayerNorm kernel: gain/bias must have ${d} elements, got shape ${gain.shape}`)
  return [n, d]
}

/** The forward kernel as a JavaScript loop over the heap (the previous implementation; `simdKernels: false`). */
export const forward: KernelFunc = (args) => {
  const x = input(args, "x")
  const gain = input(args, "gain")
  const bias = input(args, "bias")
  const [n, d] = dims(x, gain)
  dims(x, bias)
  const eps = args.attrs?.["eps"] as number
  const backend = internals(args.backend)
  const y = backend.makeOutput([n, d], "float32")
  const mean = backend.makeOutput([n], "float32")
  const rstd = backend.makeOutput([n], "float32")
  const h = heap(backend, "float32")
  const xo = indexOf(backend, x), go = indexOf(backend, gain), bo = indexOf(backend, bias)
  const yo = indexOf(backend, y), mo = indexOf(backend, mean), ro = indexOf(backend, rstd)
  for (let r = 0; r < n; r++) {
    const row = xo + r * d
    let s = 0
    for (let j = 0; j < d; j++) s += h[row + j]!
    const mu = s / d
    let v = 0
    for (let j = 0; j < d; j++) {
      const c = h[row + j]! - mu
      v += c * c
    }
    const rs = 1 / Math.sqrt(v / d + eps)
    const out = yo + r * d
    for (let j = 0; j < d; j++) h[out + j] = (h[row + j]! - mu) * rs * h[go + j]! + h[bo + j]!
    h[mo + r] = mu
    h[ro + r] = rs
  }
  return [y, mean, rstd]
}

/** The gradient kernel as a JavaScript loop over the heap (the previous implementation; `simdKernels: false`). */
export const grad: KernelFunc = (args) => {
  const dy = input(args, "dy")
  const x = input(args, "x")
  const gain = input(args, "gain")
  const mean = input(args, "mean")
  const rstd = input(args, "rstd")
  const [n, d] = dims(x, gain)
  const backend = internals(args.backend)
  const dx = backend.makeOutput([n, d], "float32")
  const dgain = backend.makeOutput([...gain.shape], "float32")
  const dbias = backend.makeOutput([...gain.shape], "float32")
  const h = heap(backend, "float32")
  const dyo = indexOf(backend, dy), xo = indexOf(backend, x), go = indexOf(backend, gain)
  const mo = indexOf(backend, mean), ro = indexOf(backend, rstd)
  const dxo = indexOf(backend, dx)
  const sg = new Float64Array(d)
  const sb = new Float64Array(d)
  for (let r = 0; r < n; r++) {
    const row = r * d
    const mu = h[mo + r]!
    const rs = h[ro + r]!
    let sumG = 0
    let sumGX = 0
    for (let j = 0; j < d; j++) {
      const g = h[dyo + row + j]!
      const xh = (h[xo + row + j]! - mu) * rs
      const gg = g * h[go + j]!
      sumG += gg
      sumGX += gg * xh
      sg[j]! += g * xh
      sb[j]! += g
    }
    const mG = sumG / d
    const mGX = sumGX / d
    for (let j = 0; j < d; j++) {
      const xh = (h[xo + row + j]! - mu) * rs
      h[dxo + row + j] = rs * (h[dyo + row + j]! * h[go + j]! - mG - xh * mGX)
    }
  }
  const dgo = indexOf(backend, dgain), dbo = indexOf(backend, dbias)
  for (let j = 0; j < d; j++) {
    h[dgo + j] = sg[j]!
    h[dbo + j] = sb[j]!
  }
  return [dx, dgain, dbias]
}

/** Name of the fused residual add + LayerNorm kernel. */
export const addForwardName = "RekindleAddLayerNorm"

/** Float32 scratch of `count` float64 for a kernel's column sums (free it with `free`). */
const scratch64 = (backend: ReturnType<typeof internals>, count: number): TensorInfo => backend.makeOutput([2 * count], "float32")

const simdForward = (args: Parameters<KernelFunc>[0], withResidual: boolean): Array<TensorInfo> => {
  const x = input(args, "x")
  const r = withResidual ? input(args, "r") : undefined
  const gain = input(args, "gain")
  const bias = input(args, "bias")
  const [n, d] = dims(x, gain)
  dims(x, bias)
  if (r !== undefined && (r.shape.length !== 2 || r.shape[0] !== n || r.shape[1] !== d)) {
    throw new Bug(`LayerNorm kernel: r must have x's shape ${x.shape}, got ${r.shape}`)
  }
  const eps = args.attrs?.["eps"] as number
  const backend = internals(args.backend)
  const s = r === undefined ? undefined : backend.makeOutput([n, d], "float32")
  const y = backend.makeOutput([n, d], "float32")
  const mean = backend.makeOutput([n], "float32")
  const rstd = backend.makeOutput([n], "float32")
  const at = (t: TensorInfo) => addressOf(backend, t)
  const [xp, rp, sp, yp, mp, rsp] = [at(x), r === undefined ? 0 : at(r), s === undefined ? 0 : at(s), at(y), at(mean), at(rstd)]
  const [gp, bp] = [at(gain), at(bias)]
  KernelHelper.run(backend, "layerNorm", n, n * d, (first, end) => {
    const o = 4 * first * d
    return [
      end - first, d, xp + o, r === undefined ? 0 : 1, rp === 0 ? 0 : rp + o, sp === 0 ? 0 : sp + o,
      gp, bp, yp + o, mp + 4 * first, rsp + 4 * first, eps
    ]
  })
  return s === undefined ? [y, mean, rstd] : [s, y, mean, rstd]
}

/** The forward kernel in wasm SIMD (`kernels.layerNorm`; row sums in float32 lanes, combined in float64). */
export const simdForwardKernel: KernelFunc = (args) => simdForward(args, false)

/**
 * `RekindleAddLayerNorm`: inputs `x, r, gain, bias` (x, r `[n, d]`), attr `eps`; outputs
 * `s = x + r`, `y = LayerNorm(s)`, `mean`, `rstd` in one pass (a residual add followed by the next
 * sublayer's LayerNorm). Its gradient is `RekindleLayerNormGrad` with the input `ds`.
 */
export const addForwardKernel: KernelFunc = (args) => simdForward(args, true)

/**
 * The gradient kernel in wasm SIMD (`kernels.layerNormGrad`). With the optional input `ds` (the
 * gradient reaching the residual sum directly), dx = ds + LayerNorm's dx.
 */
export const simdGradKernel: KernelFunc = (args) => {
  const dy = input(args, "dy")
  const x = input(args, "x")
  const gain = input(args, "gain")
  const mean = input(args, "mean")
  const rstd = input(args, "rstd")
  const ds = args.inputs["ds"] === undefined ? undefined : input(args, "ds")
  const [n, d] = dims(x, gain)
  const backend = internals(args.backend)
  const dx = backend.makeOutput([n, d], "float32")
  const dgain = backend.makeOutput([...gain.shape], "float32")
  const dbias = backend.makeOutput([...gain.shape], "float32")
  const acc = scratch64(backend, 2 * d)
  const at = (t: TensorInfo) => addressOf(backend, t)
  const [dyp, xp, gp, mp, rsp, dsp, dxp, dgp, dbp, accp] =
    [at(dy), at(x), at(gain), at(mean), at(rstd), ds === undefined ? 0 : at(ds), at(dx), at(dgain), at(dbias), at(acc)]
  const hasDs = ds === undefined ? 0 : 1
  try {
    // split: dx by rows, then the column sums by column ranges (each column's sum in row order)
    KernelHelper.runParts(backend, n * d, () => kernels(backend).layerNormGrad(n, d, dyp, xp, gp, mp, rsp, hasDs, dsp, dxp, dgp, dbp, accp, 1), [
      {
        name: "layerNormGrad",
        units: n,
        argsOf: (first, end) => {
          const o = 4 * first * d
          return [end - first, d, dyp + o, xp + o, gp, mp + 4 * first, rsp + 4 * first, hasDs, dsp === 0 ? 0 : dsp + o, dxp + o, 0, 0, 0, 0]
        }
      },
      {
        name: "layerNormGradSums",
        units: Math.ceil(d / 4),
        argsOf: (first, end) => {
          const c = 4 * first
          return [n, Math.min(d, 4 * end) - c, d, dyp + 4 * c, xp + 4 * c, mp, rsp, dgp + 4 * c, dbp + 4 * c, accp + 16 * c]
        }
      }
    ])
  } finally {
    free(backend, acc)
  }
  return [dx, dgain, dbias]
}
