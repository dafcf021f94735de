/**
 * The masked-LM head's softmax cross-entropy in one pass per row (wasm SIMD, `kernels.softmaxXent`):
 *
 * - `RekindleSoftmaxCrossEntropy`: inputs `logits [M, V]` (float32), `targets [M]` (int32, each in
 *   [0, V)); attr `minProbability`; outputs `loss [M] = −ln max(p[target], minProbability)` and
 *   `p [M, V] = softmax(logits)` (kept for the gradient);
 * - `RekindleSoftmaxCrossEntropyGrad`: inputs `p, targets, dy` (`dy` with M elements, or one for
 *   all rows); attr `divisor`; output `dlogits = (p − onehot(target))·(dy / divisor)`.
 *
 * exp and ln are polynomials (relative error ~1e-7): losses agree with the TF.js composition to
 * float32 rounding.
 */
import type { KernelFunc, TensorInfo } from "@tensorflow/tfjs-core"
import { expectSize, requireInput } from "./FusedArgs.ts"
import * as KernelHelper from "./KernelHelper.ts"
import { addressOf } from "./KernelModule.ts"
import { heap, indexOf, internals } from "./WasmHeap.ts"
import { Bug } from "@rekindle/core"

/** Kernel names. */
export const forwardName = "RekindleSoftmaxCrossEntropy"
export const gradName = "RekindleSoftmaxCrossEntropyGrad"

const matrix = (kernel: string, t: TensorInfo): [number, number] => {
  if (t.shape.length !== 2) throw new Bug(`${kernel}: expected a 2-D [M, V] tensor, got shape [${t.shape}]`)
  return t.shape as [number, number]
}

/** Throws unless every target is an integer in [0, v) (read from the heap: M int32). */
const checkTargets = (backend: ReturnType<typeof internals>, targets: TensorInfo, m: number, v: number): void => {
  const h = heap(backend, "int32")
  const at = indexOf(backend, targets)
  for (let r = 0; r < m; r++) {
    const t = h[at + r]!
    if (t < 0 || t >= v) throw new Bug(`${forwardName}: targets[${r}] = ${t} is outside the vocabulary [0, ${v})`)
  }
}

/** The forward kernel: `[loss, p]`. */
export const forward: KernelFunc = (args) => {
  const logits = requireInput(forwardName, args, "logits")
  const targets = requireInput(forwardName, args, "targets", "int32")
  const [m, v] = matrix(forwardName, logits)
  expectSize(forwardName, "targets", targets, m)
  const backend = internals(args.backend)
  checkTargets(backend, targets, m, v)
  const minP = (args.attrs?.["minProbability"] as number | undefined) ?? 0
  const loss = backend.makeOutput([m], "float32")
  const p = backend.makeOutput([m, v], "float32")
  const at = (t: TensorInfo) => addressOf(backend, t)
  const [lp, tp, pp, lossp] = [at(logits), at(targets), at(p), at(loss)]
  KernelHelper.run(backend, "softmaxXent", m, m * v, (first, end) => {
    const o = 4 * first * v
    return [end - first, v, lp + o, tp + 4 * first, pp + o, lossp + 4 * first, minP]
  })
  return [loss, p]
}

/** The gradient kernel. */
export const grad: KernelFunc = (args) => {
  const p = requireInput(gradName, args, "p")
  const targets = requireInput(gradName, args, "targets", "int32")
  const dy = requireInput(gradName, args, "dy")
  const [m, v] = matrix(gradName, p)
  expectSize(gradName, "targets", targets, m)
  const dySize = dy.shape.reduce((a, b) => a * b, 1)
  if (dySize !== 1 && dySize !== m) throw new Bug(`${gradName}: dy must have 1 or ${m} elements, got shape [${dy.shape}]`)
  const backend = internals(args.backend)
  checkTargets(backend, targets, m, v)
  const divisor = (args.attrs?.["divisor"] as number | undefined) ?? 1
  const dx = backend.makeOutput([m, v], "float32")
  const at = (t: TensorInfo) => addressOf(backend, t)
  const [pp, tp, dyp, dxp] = [at(p), at(targets), at(dy), at(dx)]
  const stride = dySize === 1 ? 0 : 4
  KernelHelper.run(backend, "softmaxXentGrad", m, m * v, (first, end) => {
    const o = 4 * first * v
    return [end - first, v, pp + o, tp + 4 * first, dyp + stride * first, stride, divisor, dxp + o]
  })
  return dx
}
