/**
 * Cast to the same dtype without a copy (the gradient of every saved-for-backward clone is such a
 * cast, and tf.cast(x, x.dtype) is common): shares the data id and counts a reference, as the
 * Identity override does. Real conversions go to the stock kernel.
 */
import type { KernelFunc, TensorInfo } from "@tensorflow/tfjs-core"

/** Builds the override around the stock kernel function. */
export const make = (stock: KernelFunc): KernelFunc => (args) => {
  const x = args.inputs["x"]!
  const dtype = args.attrs?.["dtype"]
  if (dtype !== x.dtype || x.dtype === "string" || x.dtype === "complex64") return stock(args)
  ;(args.backend as unknown as { incRef(dataId: object): void }).incRef(x.dataId)
  const out: TensorInfo = { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype }
  return out
}
