/**
 * Transpose for the wasm backend. The stock C++ kernel is a plain strided loop: fast while a 2-D
 * slice fits in cache (it beats JavaScript there, and on every other permutation), but 2-3x slower
 * than a cache-blocked transpose once a 2-D slice is large (2048x1024: ~18 ms stock vs ~8 ms
 * blocked here). So this module dispatches: after dropping size-1 axes and merging axes that stay
 * adjacent, a 2-D transpose or a batch of them (perm `[0, 2, 1]`) with at least
 * {@link blockedMinElements} elements per slice runs a JavaScript 32x32-tiled transpose on the
 * heap; everything else runs the stock kernel. Blocked path: float32, int32, bool.
 */
import type { KernelFunc, TensorInfo } from "@tensorflow/tfjs-core"
import { bytesPerElement, type HeapView, heap, indexOf, internals, type WasmBackendInternals } from "./WasmHeap.ts"

/** Elements per 2-D slice from which the blocked transpose beats the stock kernel (measured: 2^18). */
export const blockedMinElements = 1 << 18

/** An equivalent, smaller transpose problem: size-1 axes dropped, adjacent kept axes merged. */
export interface Simplified {
  readonly shape: ReadonlyArray<number>
  readonly perm: ReadonlyArray<number>
}

/** Reduces `(shape, perm)` to the fewest axes that describe the same data movement. */
export const simplify = (shape: ReadonlyArray<number>, perm: ReadonlyArray<number>): Simplified => {
  const newIndex: Array<number> = []
  let k = 0
  for (const d of shape) newIndex.push(d === 1 ? -1 : k++)
  let s = shape.filter((d) => d !== 1)
  let p = perm.filter((ax) => shape[ax] !== 1).map((ax) => newIndex[ax]!)
  let changed = true
  while (changed && p.length > 1) {
    changed = false
    for (let j = 0; j + 1 < p.length; j++) {
      const a = p[j]!
      if (p[j + 1] === a + 1) {
        s = [...s.slice(0, a), s[a]! * s[a + 1]!, ...s.slice(a + 2)]
        p = [...p.slice(0, j + 1), ...p.slice(j + 2)].map((ax) => (ax > a ? ax - 1 : ax))
        changed = true
        break
      }
    }
  }
  return { shape: s, perm: p }
}

/** The blocked form of a transpose: `batch` slices of `rows x cols` each transposed; or none. */
export interface Blocked {
  readonly batch: number
  readonly rows: number
  readonly cols: number
}

/** Whether the simplified problem is a (batched) 2-D transpose, and its dimensions. */
export const asBlocked = (shape: ReadonlyArray<number>, perm: ReadonlyArray<number>): Blocked | undefined => {
  const { shape: s, perm: p } = simplify(shape, perm)
  if (s.length === 2) return { batch: 1, rows: s[0]!, cols: s[1]! }
  if (s.length === 3 && p[0] === 0 && p[1] === 2 && p[2] === 1) return { batch: s[0]!, rows: s[1]!, cols: s[2]! }
  return undefined
}

/** `dst[dO + c*R + r] = src[sO + r*C + c]` in 32x32 tiles. */
const blocked2d = (h: HeapView, sO: number, dO: number, R: number, C: number): void => {
  const B = 32
  for (let r0 = 0; r0 < R; r0 += B) {
    const r1 = Math.min(r0 + B, R)
    for (let c0 = 0; c0 < C; c0 += B) {
      const c1 = Math.min(c0 + B, C)
      for (let c = c0; c < c1; c++) {
        let d = dO + c * R + r0
        let s = sO + r0 * C + c
        for (let r = r0; r < r1; r++) {
          h[d++] = h[s]!
          s += C
        }
      }
    }
  }
}

/** Transposes `x` (whose layout `blocked` describes) into a new output with the JS blocked loop. */
const transposeBlocked = (
  backend: WasmBackendInternals,
  x: TensorInfo,
  perm: ReadonlyArray<number>,
  blocked: Blocked
): TensorInfo => {
  const out = backend.makeOutput(perm.map((ax) => x.shape[ax]!), x.dtype)
  const h = heap(backend, x.dtype)
  const xo = indexOf(backend, x)
  const oo = indexOf(backend, out)
  const { batch, rows, cols } = blocked
  const n = rows * cols
  for (let b = 0; b < batch; b++) blocked2d(h, xo + b * n, oo + b * n, rows, cols)
  return out
}

/** A transpose as the overrides call it: backend, input, permutation -> new output. */
export type TransposeFn = (backend: WasmBackendInternals, x: TensorInfo, perm: ReadonlyArray<number>) => TensorInfo

/** Dispatches between the blocked JS transpose and the `stock` kernel (see the module comment). */
export const dispatching = (stock: KernelFunc, minElements: number = blockedMinElements): TransposeFn =>
  (backend, x, perm) => {
    const blocked = bytesPerElement(x.dtype) === undefined ? undefined : asBlocked(x.shape, perm)
    if (blocked !== undefined && blocked.rows * blocked.cols >= minElements) return transposeBlocked(backend, x, perm, blocked)
    return stock({ inputs: { x }, backend, attrs: { perm: [...perm] } }) as TensorInfo
  }

/** Whether `perm` moves no data in `shape` (the identity once size-1 axes are dropped). */
const movesNoData = (shape: ReadonlyArray<number>, perm: ReadonlyArray<number>): boolean =>
  simplify(shape, perm).perm.length <= 1

/** The parts of `BackendWasm` a shared output touches. */
interface RefCounting {
  incRef(dataId: object): void
}

/**
 * Builds the Transpose override around the stock kernel function. With `share`, a transpose that
 * moves no data (e.g. the `[0, 1]` ones of TF.js's gather gradient) returns the input's data with
 * the new shape and a counted reference, as the Identity override does, instead of a copy.
 */
export const make = (stock: KernelFunc, minElements: number = blockedMinElements, share = false): KernelFunc => {
  const transpose = dispatching(stock, minElements)
  return (args) => {
    const x = args.inputs["x"]!
    const perm = args.attrs?.["perm"] as Array<number>
    if (share && x.dtype !== "string" && movesNoData(x.shape, perm)) {
      ;(args.backend as unknown as RefCounting).incRef(x.dataId)
      const out: TensorInfo = { dataId: x.dataId, shape: perm.map((ax) => x.shape[ax]!), dtype: x.dtype }
      return out
    }
    return transpose(internals(args.backend), x, perm)
  }
}
