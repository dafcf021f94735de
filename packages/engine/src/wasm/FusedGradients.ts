/**
 * Gradients of the fused wasm kernels that models call directly with `tf.engine().runKernel`
 * (`tf.registerGradient`: TF.js's autodiff then differentiates through them like any op). Each
 * gradient runs the matching fused gradient kernel, so it exists where the forward kernel does.
 * Registered once per process by the wasm overrides' install (gradients are global in TF.js).
 */
import { Bug } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import * as BiasActivationKernel from "./BiasActivationKernel.ts"
import * as HeadMatMulKernel from "./HeadMatMulKernel.ts"
import * as LayerNormKernel from "./LayerNormKernel.ts"
import * as SoftmaxKernel from "./SoftmaxKernel.ts"

const run = (name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown> = {}): Array<tf.Tensor> => {
  const out = tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as unknown
  return Array.isArray(out) ? out as Array<tf.Tensor> : [out as tf.Tensor]
}

/**
 * `RekindleHeadMatMul`'s gradient: TF.js's BatchMatMul gradient (the same four product forms, so
 * the same kernels run as for the composition), each product in the layouts of what it reads and
 * of the operand it is the gradient of.
 */
const headMatMulGrad: tf.GradConfig["gradFunc"] = (dy, saved, attrs) => {
  const [a, b] = saved as [tf.Tensor, tf.Tensor]
  const g = dy as tf.Tensor
  const heads = attrs?.["heads"]
  const aHeads = attrs?.["aHeads"] === true
  const bHeads = attrs?.["bHeads"] === true
  const gHeads = attrs?.["outHeads"] === true
  const tA = attrs?.["transposeA"] === true
  const tB = attrs?.["transposeB"] === true
  // parts (the fused Q/K/V buffer) are read only by QkvAttention.attend, whose custom gradient runs instead
  for (const k of ["aParts", "bParts"]) {
    if (attrs?.[k] !== undefined && attrs[k] !== 1) throw new Bug(`${HeadMatMulKernel.kernelName} gradient: attr ${k} > 1 has no registered gradient (use QkvAttention.attend)`)
  }
  const mm = (x: tf.Tensor, xHeads: boolean, y: tf.Tensor, yHeads: boolean, transposeA: boolean, transposeB: boolean, outHeads: boolean) =>
    run(HeadMatMulKernel.kernelName, { a: x, b: y }, { transposeA, transposeB, heads, aHeads: xHeads, bHeads: yHeads, outHeads })[0]!
  if (!tA && !tB) return { a: () => mm(g, gHeads, b, bHeads, false, true, aHeads), b: () => mm(a, aHeads, g, gHeads, true, false, bHeads) }
  if (!tA && tB) return { a: () => mm(g, gHeads, b, bHeads, false, false, aHeads), b: () => mm(g, gHeads, a, aHeads, true, false, bHeads) }
  if (tA && !tB) return { a: () => mm(b, bHeads, g, gHeads, false, true, aHeads), b: () => mm(a, aHeads, g, gHeads, false, false, bHeads) }
  return { a: () => mm(b, bHeads, g, gHeads, true, true, aHeads), b: () => mm(g, gHeads, a, aHeads, true, true, bHeads) }
}

/** The gradient configs, by forward kernel. */
const configs: ReadonlyArray<tf.GradConfig> = [
  {
    kernelName: LayerNormKernel.addForwardName,
    inputsToSave: ["gain"],
    outputsToSave: [true, false, true, true],
    gradFunc: (dys, saved) => {
      const [ds, dy] = dys as Array<tf.Tensor>
      const [gain, s, mean, rstd] = saved
      const [dx, dgain, dbias] = run(LayerNormKernel.gradName, { dy: dy!, x: s!, gain: gain!, mean: mean!, rstd: rstd!, ds: ds! })
      // x and r get the same gradient; a second tensor (Identity shares the data), never the same one twice
      return { x: () => dx!, r: () => tf.clone(dx!), gain: () => dgain!, bias: () => dbias! }
    }
  },
  {
    kernelName: BiasActivationKernel.forwardName,
    inputsToSave: ["x", "bias"],
    gradFunc: (dy, saved, attrs) => {
      const [x, bias] = saved
      const g = dy as tf.Tensor
      if (attrs?.["activation"] === "linear") {
        // a plain bias add: dy itself (a view) and its column sums (the Sum override)
        return { x: () => tf.reshape(g, x!.shape), bias: () => tf.reshape(tf.sum(tf.reshape(g, [-1, bias!.size]), 0), bias!.shape) }
      }
      const [dx, dbias] = run(BiasActivationKernel.gradName, { dy: g, x: x!, bias: bias! }, { activation: attrs?.["activation"] })
      return { x: () => dx!, bias: () => dbias! }
    }
  },
  {
    kernelName: BiasActivationKernel.activationName,
    inputsToSave: ["x"],
    gradFunc: (dy, saved, attrs) => {
      const [dx] = run(BiasActivationKernel.gradName, { dy: dy as tf.Tensor, x: saved[0]! }, { activation: attrs?.["activation"] })
      return { x: () => dx! }
    }
  },
  {
    kernelName: SoftmaxKernel.forwardName,
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [y] = saved
      const [dx] = run(SoftmaxKernel.gradName, { y: y!, dy: dy as tf.Tensor }, { scale: attrs?.["scale"] ?? 1 })
      // masked entries of y are 0, so dx is 0 there: the padding mask needs nothing here (and
      // keyLengths, int32, is never on a gradient path: TF.js asks for no gradient of it)
      return { x: () => dx! }
    }
  },
  { kernelName: HeadMatMulKernel.kernelName, inputsToSave: ["a", "b"], gradFunc: headMatMulGrad }
]

/** Registers the gradient configs not registered yet. */
export const register = (): void => {
  for (const c of configs) if (tf.getGradient(c.kernelName) === undefined) tf.registerGradient(c)
}
