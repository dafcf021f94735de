/**
 * Attention's softmax with its scale and causal mask in one pass (wasm SIMD, `kernels.softmax`):
 *
 * - `RekindleSoftmax`: input `x [.., T]`, optional `keyLengths` (int32 `[B]`: a key padding mask,
 *   sequence b sees keys 0..keyLengths[b]−1; `x`'s rows are split evenly over the B sequences, e.g.
 *   `[B·H, T, T]` scores); attrs `scale`, `causal` (boolean: `x` is made of `[T, T]` blocks and row
 *   i of a block sees keys 0..i); output `y = softmax(scale·x + mask)` over the last axis, masked
 *   entries exactly 0 (the gradient kernel needs no mask: it is 0 wherever y is);
 * - `RekindleSoftmaxGrad`: inputs `y, dy`, attr `scale`; output `dx = scale·y·(dy − Σ dy·y)`.
 *
 * exp is a polynomial (relative error ~1e-7): results agree with TF.js's softmax to float32
 * rounding, not bit for bit.
 */
import type { KernelFunc, TensorInfo } from "@tensorflow/tfjs-core"
import { expectSize, requireInput, rowsOf } from "./FusedArgs.ts"
import * as KernelHelper from "./KernelHelper.ts"
import { addressOf } from "./KernelModule.ts"
import { heap, indexOf, internals, sizeOf } from "./WasmHeap.ts"
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
  const lengths = args.inputs["keyLengths"]
  let rowsPerLen = 0
  if (lengths !== undefined) {
    const b = sizeOf(lengths.shape)
    if (lengths.dtype !== "int32" || lengths.shape.length !== 1 || b === 0 || rows % b !== 0) {
      throw new Bug(`${forwardName}: keyLengths must be int32 [B] with B dividing the ${rows} score rows, got ${lengths.dtype} [${lengths.shape}]`)
    }
    const h = heap(backend, "int32")
    const at0 = indexOf(backend, lengths)
    for (let i = 0; i < b; i++) {
      const len = h[at0 + i]!
      if (!(len >= 1 && len <= cols)) throw new Bug(`${forwardName}: keyLengths[${i}] must be in [1, ${cols}], got ${len}`)
    }
    rowsPerLen = rows / b
  }
  const y = backend.makeOutput([...x.shape], "float32")
  const at = (t: TensorInfo) => addressOf(backend, t)
  const [xp, yp, lp] = [at(x), at(y), lengths === undefined ? 0 : at(lengths)]
  // a slice starts a causal [T, T] block and a sequence's rows (its key length): whole blocks of either
  const block = rowsPerLen > 0 ? (causal && rowsPerLen % cols !== 0 ? rows : rowsPerLen) : causal ? cols : 1
  KernelHelper.run(backend, "softmax", rows / block, rows * cols, (first, end) => [
    (end - first) * block, cols, xp + 4 * first * block * cols, yp + 4 * first * block * cols, scale, causal ? cols : 0,
    lp === 0 ? 0 : lp + 4 * ((first * block) / rowsPerLen), rowsPerLen
  ])
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
  const [yp, dyp, dxp] = [at(y), at(dy), at(dx)]
  KernelHelper.run(backend, "softmaxGrad", rows, rows * cols, (first, end) => {
    const o = 4 * first * cols
    return [end - first, cols, yp + o, dyp + o, dxp + o, scale]
  })
  return dx
}
