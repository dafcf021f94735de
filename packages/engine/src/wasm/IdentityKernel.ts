/**
 * Identity without a copy. TF.js runs `Identity` for every tensor it saves for the backward pass
 * (`engine.clone` in `saveTensorsForBackwardMode`) and for `tf.clone`; the stock wasm kernel
 * copies the whole buffer each time (~150 full-activation copies per reference training step).
 * This one shares the data id and counts a reference, exactly what the cpu backend's Identity
 * and the wasm Reshape kernel do. Safe because nothing edits tensor memory in place (see
 * WasmOverrides). Strings go to the stock kernel.
 */
import type { KernelFunc, TensorInfo } from "@tensorflow/tfjs-core"

/** The parts of `BackendWasm` this kernel touches. */
interface RefCounting {
  incRef(dataId: object): void
}

/** Builds the override around the stock kernel function. */
export const make = (stock: KernelFunc): KernelFunc => (args) => {
  const x = args.inputs["x"]!
  if (x.dtype === "string") return stock(args)
  ;(args.backend as unknown as RefCounting).incRef(x.dataId)
  const out: TensorInfo = { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype }
  return out
}
