/**
 * `_FusedMatMul` (tf.fused.matMul: product + bias + activation) through the BatchMatMul override:
 * the product runs there (sgemm on the heap when a native BLAS is active, XNNPACK otherwise), then
 * the bias is added and the activation applied with the wasm backend's own kernels (Add, Relu, ...).
 * The stock fused kernel of tfjs-backend-wasm 4.22 is wrong with `transposeB` and a bias (max
 * error 0.4 on a 9×6·(4×6)ᵀ product; blas.test.ts), and takes the scalar slow path for transposed
 * or batched operands. Non-float32 inputs and unknown activations go to the stock kernel.
 */
import * as tf from "@tensorflow/tfjs-core"
import type { KernelFunc, TensorInfo } from "@tensorflow/tfjs-core"
import { free, internals } from "./WasmHeap.ts"
import { Bug } from "@rekindle/core"

const kernel = (name: string): KernelFunc => {
  const k = tf.getKernel(name, "wasm")
  if (k === undefined) throw new Bug(`wasm kernel ${name} is not registered`)
  return k.kernelFunc
}

/** Activation name -> how to apply it with a wasm kernel; `linear` is none. */
const activations: Record<string, (x: TensorInfo, backend: object, alpha: TensorInfo | undefined, leak: number) => TensorInfo> = {
  relu: (x, backend) => kernel(tf.Relu)({ inputs: { x }, backend }) as TensorInfo,
  relu6: (x, backend) => kernel(tf.Relu6)({ inputs: { x }, backend }) as TensorInfo,
  elu: (x, backend) => kernel(tf.Elu)({ inputs: { x }, backend }) as TensorInfo,
  sigmoid: (x, backend) => kernel(tf.Sigmoid)({ inputs: { x }, backend }) as TensorInfo,
  leakyrelu: (x, backend, _a, leak) => kernel(tf.LeakyRelu)({ inputs: { x }, backend, attrs: { alpha: leak } }) as TensorInfo,
  prelu: (x, backend, alpha) => kernel(tf.Prelu)({ inputs: { x, alpha: alpha! }, backend }) as TensorInfo
}

/** Builds the override around the stock kernel; `matMul` is the (overridden) BatchMatMul. */
export const make = (stock: KernelFunc, matMul: KernelFunc): KernelFunc => (args) => {
  const activation = String(args.attrs?.["activation"] ?? "linear")
  const { a, b, bias, preluActivationWeights } = args.inputs
  const apply = activation === "linear" ? undefined : activations[activation]
  if ((activation !== "linear" && apply === undefined) || a!.dtype !== "float32") {
    return stock(args)
  }
  const backend = internals(args.backend)
  let out = matMul({
    inputs: { a: a!, b: b! },
    backend: args.backend,
    attrs: { transposeA: args.attrs?.["transposeA"] === true, transposeB: args.attrs?.["transposeB"] === true }
  }) as TensorInfo
  if (bias !== undefined) {
    const next = kernel(tf.Add)({ inputs: { a: out, b: bias }, backend: args.backend }) as TensorInfo
    free(backend, out)
    out = next
  }
  if (apply !== undefined) {
    const next = apply(out, args.backend, preluActivationWeights, Number(args.attrs?.["leakyreluAlpha"] ?? 0.2))
    free(backend, out)
    out = next
  }
  return out
}
