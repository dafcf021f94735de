/**
 * A tensor's values as a JavaScript array without a copy where the backend allows it: on the wasm
 * backend a view into the emscripten heap, elsewhere `dataSync()` (a copy on most backends, the
 * stored array itself on cpu). For read-only comparisons of large tensors (the recycling
 * invariant checks), where a readback copy costs more than the comparison itself.
 */
import * as tf from "@tensorflow/tfjs-core"
import { bytesPerElement, heap, indexOf, internals, sizeOf } from "./wasm/WasmHeap.ts"

/**
 * The values of `t`, read-only. On wasm (float32, int32, bool) the result is a view into the heap:
 * valid only until the next TF.js operation (a heap allocation may grow and detach it), so read
 * it at once and never write to it, nor keep it.
 */
export const peek = (t: tf.Tensor): ArrayLike<number> => {
  const backend = tf.backend()
  if (tf.getBackend() !== "wasm" || bytesPerElement(t.dtype) === undefined) return t.dataSync() as ArrayLike<number>
  const wasm = internals(backend)
  if (wasm.dataIdMap.get(t.dataId) === undefined) return t.dataSync() as ArrayLike<number>
  const start = indexOf(wasm, t)
  return heap(wasm, t.dtype).subarray(start, start + sizeOf(t.shape))
}
