/**
 * Transpose on the wasm heap in JavaScript. The stock wasm kernel is a naive strided loop (45 ms
 * for 2048x1024 here); this one first drops size-1 axes and merges axes that stay adjacent, then
 * uses blocked 2-D tiles (rank 2, or batched rank 3 swapping the last two axes), contiguous-run
 * copies when the innermost axis is kept, and a strided odometer otherwise. Handles float32,
 * int32 and bool; other dtypes go to the stock kernel.
 */
import type { TensorInfo } from "@tensorflow/tfjs-core"
import { type HeapView, heap, indexOf, sizeOf, stridesOf, type WasmBackendInternals } from "./WasmHeap.ts"

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

/** Writes `transpose(x, perm)` into the already allocated `out` (same dtype, permuted shape). */
export const transposeInto = (
  backend: WasmBackendInternals,
  x: TensorInfo,
  perm: ReadonlyArray<number>,
  out: TensorInfo
): void => {
  const n = sizeOf(x.shape)
  if (n === 0) return
  const h = heap(backend, x.dtype)
  const xo = indexOf(backend, x)
  const oo = indexOf(backend, out)
  const { shape: s, perm: p } = simplify(x.shape, perm)
  const rank = s.length
  if (rank <= 1) {
    h.copyWithin(oo, xo, xo + n)
    return
  }
  if (rank === 2) {
    blocked2d(h, xo, oo, s[0]!, s[1]!)
    return
  }
  if (rank === 3 && p[0] === 0 && p[1] === 2 && p[2] === 1) {
    const R = s[1]!
    const C = s[2]!
    for (let b = 0; b < s[0]!; b++) blocked2d(h, xo + b * R * C, oo + b * R * C, R, C)
    return
  }
  const inStrides = stridesOf(s)
  const outShape = p.map((ax) => s[ax]!)
  const st = p.map((ax) => inStrides[ax]!)
  const outer = rank - 1
  const idx = new Array<number>(outer).fill(0)
  const inner = outShape[outer]!
  const innerStride = st[outer]!
  const count = n / inner
  let d = oo
  for (let it = 0; it < count; it++) {
    let src = xo
    for (let j = 0; j < outer; j++) src += idx[j]! * st[j]!
    if (innerStride === 1 && inner >= 16) {
      // innermost axis kept: copy the contiguous run
      h.copyWithin(d, src, src + inner)
      d += inner
    } else {
      for (let q = 0; q < inner; q++) {
        h[d++] = h[src]!
        src += innerStride
      }
    }
    for (let j = outer - 1; j >= 0; j--) {
      if (++idx[j]! < outShape[j]!) break
      idx[j] = 0
    }
  }
}

/** Allocates the output and transposes `x` into it. */
export const transpose = (backend: WasmBackendInternals, x: TensorInfo, perm: ReadonlyArray<number>): TensorInfo => {
  const out = backend.makeOutput(perm.map((ax) => x.shape[ax]!), x.dtype)
  transposeInto(backend, x, perm, out)
  return out
}
