/**
 * Typed access to the internals of tfjs-backend-wasm 4.22's `BackendWasm` that the kernel
 * overrides use: the emscripten heap, tensor offsets, output allocation and disposal.
 *
 * Rules: heap offsets can exceed 2 GiB (emscripten hands them out as signed i32), so always turn
 * them into indices with unsigned shifts; re-read heap views after every allocation (the heap may
 * grow, which detaches old views; in the threaded build a worker may grow it too).
 */
import type { DataType, TensorInfo } from "@tensorflow/tfjs-core"
import { Bug } from "@rekindle/core"

/** The parts of the emscripten module we touch. */
interface WasmModuleInternals {
  readonly HEAPF32: Float32Array
  readonly HEAP32: Int32Array
  readonly HEAPU8: Uint8Array
  /** emscripten's cwrap (the tfjs build exports it). */
  readonly cwrap: (name: string, returns: null | string, args: Array<string>) => (...args: Array<unknown>) => unknown
  /** The C++ side of tfjs's tensor registry. */
  readonly tfjs: {
    readonly registerTensor: (id: number, size: number, memoryOffset: number) => void
    readonly disposeData: (id: number) => void
  }
  /** Present in the threaded build. */
  readonly wasmMemory?: { readonly buffer: ArrayBufferLike }
}

/** Bookkeeping `BackendWasm` keeps per data id. */
interface WasmTensorData {
  readonly id: number
  readonly memoryOffset: number
  readonly shape?: Array<number>
  readonly dtype?: DataType
  refCount?: number
}

/** The parts of `BackendWasm` we touch. */
export interface WasmBackendInternals {
  readonly wasm: WasmModuleInternals
  readonly dataIdMap: {
    get(dataId: object): WasmTensorData | undefined
    set(dataId: object, data: WasmTensorData): void
    delete(dataId: object): boolean
  }
  dataIdNextNumber: number
  makeOutput(shape: Array<number>, dtype: DataType): TensorInfo
  disposeData(dataId: object, force?: boolean): boolean
}

/** Views the overrides know how to work on: 4-byte floats and ints, 1-byte bools. */
export type HeapView = Float32Array | Int32Array | Uint8Array

/** Casts the `backend` a kernel receives to the wasm internals. */
export const internals = (backend: object): WasmBackendInternals => backend as WasmBackendInternals

/** Bytes per element of the dtypes the overrides handle directly; `undefined` otherwise. */
export const bytesPerElement = (dtype: DataType): 4 | 1 | undefined =>
  dtype === "float32" || dtype === "int32" ? 4 : dtype === "bool" ? 1 : undefined

const fresh = (module: WasmModuleInternals): ArrayBufferLike | undefined => {
  const memory = module.wasmMemory
  return memory !== undefined && memory.buffer !== module.HEAPU8.buffer ? memory.buffer : undefined
}

/** A current view of the heap for `dtype` (float32, int32 or bool). */
export const heap = (backend: WasmBackendInternals, dtype: DataType): HeapView => {
  const m = backend.wasm
  const buffer = fresh(m)
  switch (dtype) {
    case "float32":
      return buffer === undefined ? m.HEAPF32 : new Float32Array(buffer)
    case "int32":
      return buffer === undefined ? m.HEAP32 : new Int32Array(buffer)
    case "bool":
      return buffer === undefined ? m.HEAPU8 : new Uint8Array(buffer)
    default:
      throw new Bug(`no heap view for dtype ${dtype}`)
  }
}

/** Element index of a tensor's first element in its dtype's heap view. */
export const indexOf = (backend: WasmBackendInternals, t: TensorInfo): number => {
  const data = backend.dataIdMap.get(t.dataId)
  if (data === undefined) throw new Bug("tensor data not found on the wasm backend")
  const bpe = bytesPerElement(t.dtype)
  if (bpe === undefined) throw new Bug(`no heap view for dtype ${t.dtype}`)
  return bpe === 4 ? data.memoryOffset >>> 2 : data.memoryOffset >>> 0
}

/** A tensor info that reads `t`'s data with another shape (no copy, no refcount). */
export const view = (t: TensorInfo, shape: Array<number>): TensorInfo => ({ dataId: t.dataId, shape, dtype: t.dtype })

/** Frees an intermediate the override allocated itself. */
export const free = (backend: WasmBackendInternals, t: TensorInfo): void => {
  backend.disposeData(t.dataId)
}

/** Product of a shape's dims (1 for a scalar). */
export const sizeOf = (shape: ReadonlyArray<number>): number => shape.reduce((a, b) => a * b, 1)

/** Row-major strides of a shape. */
export const stridesOf = (shape: ReadonlyArray<number>): Array<number> => {
  const s = new Array<number>(shape.length)
  let acc = 1
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc
    acc *= shape[i]!
  }
  return s
}

/**
 * A tensor that aliases `count = sizeOf(shape)` elements of `t` from element `from` on: a new data
 * id registered on both the JS and the C++ side, pointing into `t`'s memory (no copy, no
 * allocation). Kernel-internal only: free it with {@link freeAlias} (never `disposeData`, which
 * would free `t`'s memory) before the kernel returns, and never hand it to TF.js.
 */
export const alias = (backend: WasmBackendInternals, t: TensorInfo, from: number, shape: Array<number>): TensorInfo => {
  const data = backend.dataIdMap.get(t.dataId)
  if (data === undefined) throw new Bug("tensor data not found on the wasm backend")
  const bpe = bytesPerElement(t.dtype)
  if (bpe === undefined) throw new Bug(`no alias for dtype ${t.dtype}`)
  const id = backend.dataIdNextNumber++
  const dataId = { id }
  const memoryOffset = data.memoryOffset + from * bpe
  backend.dataIdMap.set(dataId, { id, memoryOffset, shape, dtype: t.dtype, refCount: 1 })
  backend.wasm.tfjs.registerTensor(id, sizeOf(shape), memoryOffset)
  return { dataId, shape, dtype: t.dtype }
}

/** Unregisters an alias made by {@link alias} (its memory belongs to the aliased tensor). */
export const freeAlias = (backend: WasmBackendInternals, t: TensorInfo): void => {
  const data = backend.dataIdMap.get(t.dataId)
  if (data === undefined) return
  backend.wasm.tfjs.disposeData(data.id)
  backend.dataIdMap.delete(t.dataId)
}
