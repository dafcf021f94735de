/**
 * The fused wasm SIMD kernels (`assembly/kernels.ts`, built into `kernels/*.wasm`) instantiated on
 * tfjs-backend-wasm's own `WebAssembly.Memory`: the module imports that memory (the shared one of
 * the threaded build, the plain one otherwise), so its functions read and write tensors in place,
 * given their byte offsets on the heap. One instance per memory, made on first use; it runs on the
 * calling thread (KernelHelper.ts shares large calls with a helper thread and its own instance).
 */
import { readFileSync } from "node:fs"
import type { WasmBackendInternals } from "./WasmHeap.ts"
import { Bug } from "@rekindle/core"

/** The parts of the `WebAssembly` global used here (the project's TS libs do not declare it). */
interface Memory {
  readonly buffer: ArrayBufferLike
}
interface WasmApi {
  readonly Memory: abstract new (...args: Array<never>) => Memory
  readonly Module: new (bytes: Uint8Array) => object
  readonly Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { readonly exports: unknown }
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly

/** Byte address of a tensor on the wasm heap. */
type Ptr = number

/** The exports of the kernel module (see `assembly/kernels.ts` for each kernel's math). */
export interface Kernels {
  adam(
    n: number, g: Ptr, mu: Ptr, nu: Ptr, bc1: Ptr, bc2: Ptr,
    u: Ptr, mOut: Ptr, vOut: Ptr, k1Out: Ptr, k2Out: Ptr,
    b1: number, b2: number, c1: number, c2: number, eps: number,
    decay: number, p: Ptr, wd: number, hasScale: number, scale: number, apply: number
  ): void
  layerNorm(
    n: number, d: number, x: Ptr, hasR: number, r: Ptr, s: Ptr,
    gain: Ptr, bias: Ptr, y: Ptr, mean: Ptr, rstd: Ptr, eps: number
  ): void
  layerNormGrad(
    n: number, d: number, dy: Ptr, x: Ptr, gain: Ptr, mean: Ptr, rstd: Ptr,
    hasDs: number, ds: Ptr, dx: Ptr, dgain: Ptr, dbias: Ptr, acc: Ptr, sums: number
  ): void
  layerNormGradSums(
    n: number, cols: number, stride: number, dy: Ptr, x: Ptr, mean: Ptr, rstd: Ptr, dgain: Ptr, dbias: Ptr, acc: Ptr
  ): void
  biasAct(n: number, f: number, x: Ptr, hasBias: number, bias: Ptr, act: number, y: Ptr): void
  biasActGrad(
    n: number, f: number, dy: Ptr, x: Ptr, hasBias: number, bias: Ptr, act: number, dx: Ptr, dbias: Ptr, acc: Ptr, sums: number
  ): void
  segmentSum(n: number, inner: number, x: Ptr, ids: Ptr, numSegments: number, out: Ptr): void
  colSum(rows: number, cols: number, stride: number, x: Ptr, out: Ptr, acc: Ptr): void
  colDot(rows: number, cols: number, a: Ptr, b: Ptr, out: Ptr, acc: Ptr): void
  softmax(rows: number, cols: number, x: Ptr, y: Ptr, scale: number, causalT: number, lens: Ptr, rowsPerLen: number): void
  softmaxGrad(rows: number, cols: number, y: Ptr, dy: Ptr, dx: Ptr, scale: number): void
  softmaxXent(m: number, v: number, logits: Ptr, targets: Ptr, p: Ptr, loss: Ptr, minP: number): void
  softmaxXentGrad(m: number, v: number, p: Ptr, targets: Ptr, dy: Ptr, dyStride: number, divisor: number, dx: Ptr): void
  strayMark(size: number, a: Ptr, b: Ptr, inner: number, n: number, ok: Ptr, stray: Ptr, floats: number): void
}

/** The committed binaries (plain-memory and shared-memory imports). */
export const binaryUrls = {
  plain: new URL("./kernels/kernels.wasm", import.meta.url),
  shared: new URL("./kernels/kernels-shared.wasm", import.meta.url)
} as const

const modules: { plain?: object; shared?: object } = {}
const instances = new WeakMap<Memory, Kernels>()

/** tfjs's `WebAssembly.Memory`: `wasmMemory` in the threaded build, the `memory` export otherwise. */
export const memoryOf = (backend: WasmBackendInternals): Memory => {
  const m = backend.wasm as unknown as { wasmMemory?: Memory; asm?: { memory?: Memory } }
  const memory = m.wasmMemory ?? m.asm?.memory
  if (!(memory instanceof wasmApi.Memory)) throw new Bug("fused kernels: tfjs-backend-wasm's WebAssembly.Memory not found")
  return memory
}

/** The kernel module instantiated on the backend's memory (cached per memory). */
export const kernels = (backend: WasmBackendInternals): Kernels => {
  const memory = memoryOf(backend)
  const known = instances.get(memory)
  if (known !== undefined) return known
  const variant = typeof SharedArrayBuffer !== "undefined" && memory.buffer instanceof SharedArrayBuffer ? "shared" : "plain"
  const module = modules[variant] ??= new wasmApi.Module(readFileSync(binaryUrls[variant]))
  const instance = new wasmApi.Instance(module, { env: { memory } })
  const k = instance.exports as unknown as Kernels
  instances.set(memory, k)
  return k
}

/** Byte offset of a tensor's data on the heap (as an unsigned number). */
export const addressOf = (backend: WasmBackendInternals, t: { dataId: object }): Ptr => {
  const data = backend.dataIdMap.get(t.dataId)
  if (data === undefined) throw new Bug("tensor data not found on the wasm backend")
  return data.memoryOffset >>> 0
}
