/**
 * `RekindleColumnDot`: inputs `a [n, d]`, `b [n, d]` (float32); output `[d]` with
 * out_j = Σ_rows a[r, j] · b[r, j], accumulated in float64 in one pass over the heap. The signal
 * `signal/taylor` (Σ_tokens h·∂L/∂h per neuron) uses it where registered: the composition
 * `sum(mul(a, b), 0)` writes and re-reads a full `[n, d]` product first.
 */
import type { KernelFunc, TensorInfo } from "@tensorflow/tfjs-core"
import { addressOf, kernels } from "./KernelModule.ts"
import { free, heap, indexOf, internals } from "./WasmHeap.ts"
import { Bug } from "@rekindle/core"

/** The kernel's name. */
export const kernelName = "RekindleColumnDot"

const input = (args: Parameters<KernelFunc>[0], name: string): TensorInfo => {
  const t = args.inputs[name]
  if (t === undefined) throw new Bug(`ColumnDot kernel: missing input ${name}`)
  if (t.dtype !== "float32" || t.shape.length !== 2) throw new Bug(`ColumnDot kernel: input ${name} must be 2-D float32, got ${t.dtype} [${t.shape}]`)
  return t
}

/** The checked inputs, their shape and the `[d]` output. */
const operands = (args: Parameters<KernelFunc>[0]) => {
  const a = input(args, "a")
  const b = input(args, "b")
  const [n, d] = a.shape as [number, number]
  if (b.shape[0] !== n || b.shape[1] !== d) throw new Bug(`ColumnDot kernel: shapes [${a.shape}] and [${b.shape}] differ`)
  const backend = internals(args.backend)
  return { a, b, n, d, backend, out: backend.makeOutput([d], "float32") }
}

/** The kernel. */
export const kernel: KernelFunc = (args) => {
  const { a, b, n, d, backend, out } = operands(args)
  const h = heap(backend, "float32")
  const ao = indexOf(backend, a), bo = indexOf(backend, b), oo = indexOf(backend, out)
  const acc = new Float64Array(d)
  // four rows per sweep: acc[j] is loaded and stored once per four terms, added in the same row
  // order as one row at a time (the same float64 sums, bit for bit)
  let r = 0
  for (; r + 4 <= n; r += 4) {
    const a0 = ao + r * d, b0 = bo + r * d
    const a1 = a0 + d, b1 = b0 + d, a2 = a1 + d, b2 = b1 + d, a3 = a2 + d, b3 = b2 + d
    for (let j = 0; j < d; j++) {
      let s = acc[j]!
      s += h[a0 + j]! * h[b0 + j]!
      s += h[a1 + j]! * h[b1 + j]!
      s += h[a2 + j]! * h[b2 + j]!
      s += h[a3 + j]! * h[b3 + j]!
      acc[j] = s
    }
  }
  for (; r < n; r++) {
    const ra = ao + r * d
    const rb = bo + r * d
    for (let j = 0; j < d; j++) acc[j]! += h[ra + j]! * h[rb + j]!
  }
  for (let j = 0; j < d; j++) h[oo + j] = acc[j]!
  return out
}

/**
 * The same in wasm SIMD (`kernels.colDot`: two float64 lanes, the same products and additions in
 * the same order, so the same bits), registered with `simdKernels`.
 */
export const simdKernel: KernelFunc = (args) => {
  const { a, b, n, d, backend, out } = operands(args)
  const acc = backend.makeOutput([2 * d], "float32")
  try {
    kernels(backend).colDot(n, d, addressOf(backend, a), addressOf(backend, b), addressOf(backend, out), addressOf(backend, acc))
  } finally {
    free(backend, acc)
  }
  return out
}
