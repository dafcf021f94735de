/**
 * Reading tensors for host-side checks without copies where the backend allows it (the recycling
 * invariant checks, where a readback copy costs more than the check itself):
 * - `peek`: a tensor's values; on the wasm backend a view into the emscripten heap, elsewhere
 *   `dataSync()` (a copy on most backends, the stored array itself on cpu);
 * - `changedSlices`: the slices along an axis in which two tensors differ, outside allowed ones;
 *   on wasm in place on the heap (`kernels.strayMark`, wasm SIMD), elsewhere one readback each
 *   and a JavaScript loop. Both give the same answer (test/hostValues.test.ts).
 */
import { Bug } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import { addressOf, kernels } from "./wasm/KernelModule.ts"
import { bytesPerElement, free, heap, indexOf, internals, sizeOf, type WasmBackendInternals } from "./wasm/WasmHeap.ts"

/** The wasm backend's internals when it is active and holds `ts`' data; otherwise undefined. */
const onWasm = (...ts: ReadonlyArray<tf.Tensor>): WasmBackendInternals | undefined => {
  if (tf.getBackend() !== "wasm") return undefined
  const wasm = internals(tf.backend())
  return ts.every((t) => bytesPerElement(t.dtype) !== undefined && wasm.dataIdMap.get(t.dataId) !== undefined) ? wasm : undefined
}

/**
 * The values of `t`, read-only. On wasm (float32, int32, bool) the result is a view into the heap:
 * valid only until the next TF.js operation (a heap allocation may grow and detach it), so read
 * it at once and never write to it, nor keep it.
 */
export const peek = (t: tf.Tensor): ArrayLike<number> => {
  const wasm = onWasm(t)
  if (wasm === undefined) return t.dataSync() as ArrayLike<number>
  const start = indexOf(wasm, t)
  return heap(wasm, t.dtype).subarray(start, start + sizeOf(t.shape))
}

type Values = ArrayLike<number>

/** 32-bit views of 4-byte typed arrays (equal bits: equal values), else undefined. */
const bits = (a: Values): Uint32Array | undefined =>
  a instanceof Float32Array || a instanceof Int32Array ? new Uint32Array(a.buffer, a.byteOffset, a.length) : undefined

/** The JavaScript path of `changedSlices`: flags in `stray` (bits first, values where bits differ). */
const markStray = (x: Values, y: Values, inner: number, n: number, ok: Uint8Array, stray: Uint8Array): void => {
  const differs = (e: number) => {
    const u = x[e]!
    const v = y[e]!
    if (u !== v && (u === u || v === v)) {
      const i = Math.floor(e / inner) % n
      if (ok[i] === 0) stray[i] = 1
    }
  }
  const bx = bits(x)
  const by = bits(y)
  if (bx !== undefined && by !== undefined) {
    for (let e = 0; e < bx.length; e++) if (bx[e] !== by[e]) differs(e)
  } else {
    for (let e = 0; e < x.length; e++) differs(e)
  }
}

/**
 * The indices along `axis`, ascending, outside `allowed` whose slices differ between `before` and
 * `after` (same shape and dtype): exact comparison of values, NaN equal to NaN (+0 equal to −0),
 * bits first where elements are 4 bytes. The same data (one data id) differs nowhere.
 */
export const changedSlices = (before: tf.Tensor, after: tf.Tensor, axis: number, allowed: ReadonlyArray<number>): Array<number> => {
  if (before.shape.join() !== after.shape.join()) throw new Bug(`changedSlices: shapes [${before.shape}] and [${after.shape}] differ`)
  if (before.dataId === after.dataId) return []
  const n = before.shape[axis]
  if (n === undefined) throw new Bug(`changedSlices: no axis ${axis} in shape [${before.shape}]`)
  for (const i of allowed) if (!Number.isInteger(i) || i < 0 || i >= n) throw new Bug(`changedSlices: allowed index ${i} out of range [0, ${n})`)
  const inner = sizeOf(before.shape.slice(axis + 1))
  const size = sizeOf(before.shape)
  const wasm = before.dtype === after.dtype && bytesPerElement(before.dtype) === 4 ? onWasm(before, after) : undefined
  let stray: Uint8Array
  if (wasm === undefined || size === 0) {
    const ok = new Uint8Array(n)
    for (const i of allowed) ok[i] = 1
    stray = new Uint8Array(n)
    markStray(peek(before), peek(after), inner, n, ok, stray)
  } else {
    const flags = wasm.makeOutput([2 * n], "bool")
    try {
      const start = indexOf(wasm, flags)
      const h = heap(wasm, "bool")
      h.fill(0, start, start + 2 * n)
      for (const i of allowed) h[start + i] = 1
      const at = addressOf(wasm, flags)
      kernels(wasm).strayMark(size, addressOf(wasm, before), addressOf(wasm, after), inner, n, at, at + n, before.dtype === "float32" ? 1 : 0)
      stray = (heap(wasm, "bool") as Uint8Array).slice(start + n, start + 2 * n)
    } finally {
      free(wasm, flags)
    }
  }
  const out: Array<number> = []
  stray.forEach((f, i) => {
    if (f === 1) out.push(i)
  })
  return out
}
