/**
 * Bias + activation in one pass (wasm SIMD, `kernels.biasAct`), for the FF layer's
 * `act(x·W_in (+ b_in))`:
 *
 * - `RekindleBiasActivation`: inputs `x [.., f]`, `bias [f]` (`RekindleActivation`: `x` only, the
 *   same kernel without a bias); attr `activation`
 *   (`"relu"`, `"gelu"`: the tanh approximation x·sigmoid(1.5957691·(x + 0.044715x³)), the
 *   model's, or `"linear"`: a plain bias add, whose gradient needs no kernel); output
 *   `y = act(x + bias)`;
 * - `RekindleBiasActivationGrad`: inputs `dy, x`, optional `bias`; outputs `dx = dy·act'(x + bias)`
 *   and, with a bias, `dbias = Σ_rows dx` (float64 column sums).
 *
 * ReLU is exact (ReLU'(0) = 0 as TF.js's step); GELU's exp is a polynomial (relative error
 * ~1e-7), so GELU agrees with the TF.js composition to float32 rounding, not bit for bit.
 */
import type { KernelFunc, TensorInfo } from "@tensorflow/tfjs-core"
import { expectSize, optionalInput, requireInput, rowsOf } from "./FusedArgs.ts"
import * as KernelHelper from "./KernelHelper.ts"
import { addressOf, kernels } from "./KernelModule.ts"
import { free, internals } from "./WasmHeap.ts"
import { Bug } from "@rekindle/core"

/** Kernel names. */
export const forwardName = "RekindleBiasActivation"
export const activationName = "RekindleActivation"
export const gradName = "RekindleBiasActivationGrad"

/** The activations the kernels know, by their number in `kernels.wasm`. */
const activations = { relu: 0, gelu: 1, linear: 2 } as const

const activationOf = (args: Parameters<KernelFunc>[0]): number => {
  const name = args.attrs?.["activation"] as string
  const code = (activations as Record<string, number>)[name]
  if (code === undefined) throw new Bug(`${forwardName}: activation must be "relu", "gelu" or "linear", got ${String(name)}`)
  return code
}

/** The forward kernel. */
export const forward: KernelFunc = (args) => {
  const x = requireInput(forwardName, args, "x")
  const bias = optionalInput(forwardName, args, "bias")
  const [n, f] = rowsOf(forwardName, "x", x)
  if (bias !== undefined) expectSize(forwardName, "bias", bias, f)
  const act = activationOf(args)
  const backend = internals(args.backend)
  const y = backend.makeOutput([...x.shape], "float32")
  const at = (t: TensorInfo) => addressOf(backend, t)
  const [xp, bp, yp] = [at(x), bias === undefined ? 0 : at(bias), at(y)]
  KernelHelper.run(backend, "biasAct", n, n * f, (first, end) => {
    const o = 4 * first * f
    return [end - first, f, xp + o, bias === undefined ? 0 : 1, bp, act, yp + o]
  })
  return y
}

/** The gradient kernel: `[dx]`, or `[dx, dbias]` with a bias. */
export const grad: KernelFunc = (args) => {
  const dy = requireInput(gradName, args, "dy")
  const x = requireInput(gradName, args, "x")
  const bias = optionalInput(gradName, args, "bias")
  const [n, f] = rowsOf(gradName, "x", x)
  expectSize(gradName, "dy", dy, n * f)
  if (bias !== undefined) expectSize(gradName, "bias", bias, f)
  const act = activationOf(args)
  const backend = internals(args.backend)
  const dx = backend.makeOutput([...x.shape], "float32")
  const dbias = bias === undefined ? undefined : backend.makeOutput([...bias.shape], "float32")
  const acc = bias === undefined ? undefined : backend.makeOutput([2 * f], "float32")
  const at = (t: TensorInfo | undefined) => (t === undefined ? 0 : addressOf(backend, t))
  const [dyp, xp, bp, dxp, dbp, accp] = [at(dy), at(x), at(bias), at(dx), at(dbias), at(acc)]
  const hasBias = bias === undefined ? 0 : 1
  try {
    // split: dx by rows, then dbias as column sums of dx by column ranges (each in row order)
    KernelHelper.runParts(backend, n * f, () => kernels(backend).biasActGrad(n, f, dyp, xp, hasBias, bp, act, dxp, dbp, accp, 1), [
      {
        name: "biasActGrad",
        units: n,
        argsOf: (first, end) => {
          const o = 4 * first * f
          return [end - first, f, dyp + o, xp + o, hasBias, bp, act, dxp + o, 0, 0, 0]
        }
      },
      ...(bias === undefined ? [] : [{
        name: "colSum" as const,
        units: Math.ceil(f / 4),
        argsOf: (first: number, end: number) => {
          const c = 4 * first
          return [n, Math.min(f, 4 * end) - c, f, dxp + 4 * c, dbp + 4 * c, accp + 8 * c]
        }
      }])
    ])
  } finally {
    if (acc !== undefined) free(backend, acc)
  }
  return dbias === undefined ? [dx] : [dx, dbias]
}
