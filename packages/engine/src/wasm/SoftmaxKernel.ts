/**
 * Attention's softmax with its scale and causal mask in one pass (wasm SIMD, `kernels.softmax`):
 *
 * - `RekindleSoftmax`: input `x [.., T]`; attrs `scale`, `causal` (boolean: `x` is made of
 *   `[T, T]` blocks and row i of a block sees keys 0..i); output
 *   `y = softmax(scale·x + mask)` over the last axis, masked entries exactly 0;
 * - `RekindleSoftmaxGrad`: inputs `y, dy`, attr `scale`; output `dx = scale·y·(dy − Σ dy·y)`.
 *
 * exp is a polynomial (relative error ~1e-7): results agree with TF.js's softmax to float32
 * rounding, not bit for bit.
 */
import type { KernelFunc, TensorInfo } from "@tensorflow/tfjs-core"
import { expectSize, requireInput, rowsOf } from "./FusedArgs.ts"
import { addressOf, kernels } from "./KernelModule.ts"
import { internals } from "./WasmHeap.ts"
import { Bug } from "@rekindle/core"

/** Kernel names. */
export const forwardName = "RekindleSoftmax"
export const gradName = "RekindleSoftmaxGrad"

/** The forward kernel. */
export const forward: KernelFunc = (args) => {
  const x = requireInput(forwardName, args, "x")
  const [rows, cols] = rowsOf(forwardName, "x", x)
  const scale = (args.attrs?.["scale"] as number | undefined) ?? 1
  const causal = args.attrs?.["causal"] === true
  if (causal && (x.shape.length < 2 || x.shape[x.shape.length - 2] !== cols)) {
    throw new Bug(`${forwardName}: a causal softmax needs [.., T, T] scores, got shape [${x.shape}]`)
  }
  const backend = internals(args.backend)
  const y = backend.makeOutput([...x.shape], "float32")
  const at = (t: TensorInfo) => addressOf(backend, t)
  kernels(backend).softmax(rows, cols, at(x), at(y), scale, causal ? cols : 0)
  return y
}

/** The gradient kernel. */
export const grad: KernelFunc = (args) => {
  const y = requireInput(gradName, args, "y")
  const dy = requireInput(gradName, args, "dy")
  const [rows, cols] = rowsOf(gradName, "y", y)
  expectSize(gradName, "dy", dy, rows * cols)
  const scale = (args.attrs?.["scale"] as number | undefined) ?? 1
  const backend = internals(args.backend)
  const dx = backend.makeOutput([...y.shape], "float32")
  const at = (t: TensorInfo) => addressOf(backend, t)
  kernels(backend).softmaxGrad(rows, cols, at(y), at(dy), at(dx), scale)
  return dx
}
