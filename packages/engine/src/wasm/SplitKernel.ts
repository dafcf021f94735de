/**
 * SplitV on top of the Slice override. The stock wasm SplitV calls the stock slice directly (not
 * through the kernel registry), and that copies the WHOLE input into a JavaScript buffer once per
 * piece: splitting the fused `[B, 3H, T, d/H]` Q/K/V tensor of the attention cost ~18 ms per call
 * on the reference model. Here every piece is one heap-to-heap slice.
 */
import { backend_util, type KernelFunc, type TensorInfo, util } from "@tensorflow/tfjs-core"

/** Builds the override; `slice` is the (overridden) Slice kernel function. */
export const make = (slice: KernelFunc): KernelFunc => (args) => {
  const x = args.inputs["x"]!
  const axis = util.parseAxisParam(args.attrs?.["axis"] as number, x.shape)[0]!
  const sizes = backend_util.prepareSplitSize(x, args.attrs?.["numOrSizeSplits"] as number | Array<number>, axis)
  const begin = new Array<number>(x.shape.length).fill(0)
  return sizes.map((s) => {
    const size = [...x.shape]
    size[axis] = s
    const piece = slice({ inputs: { x }, backend: args.backend, attrs: { begin: [...begin], size } }) as TensorInfo
    begin[axis]! += s
    return piece
  })
}
