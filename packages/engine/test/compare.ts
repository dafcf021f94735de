/**
 * Test helpers: seeded data, running the same computation on cpu and on wasm, comparing results.
 */
import * as tf from "@tensorflow/tfjs-core"
import { Effect } from "effect"
import { expect } from "vitest"
import * as Backends from "../src/Backends.ts"
import * as Tensors from "../src/Tensors.ts"

/** Deterministic uniform data in [-0.5, 0.5) (mulberry32). */
export const seeded = (seed: number, n: number): Float32Array => {
  let s = seed >>> 0
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5
  }
  return out
}

/** Seeded integers in [0, max). */
export const seededInts = (seed: number, n: number, max: number): Int32Array =>
  Int32Array.from(seeded(seed, n), (v) => Math.floor((v + 0.5) * max))

/** A computed result read back: shape, dtype and values. */
export interface Result {
  readonly shape: ReadonlyArray<number>
  readonly dtype: string
  readonly values: ReadonlyArray<number>
}

const read = (t: tf.Tensor): Result => ({ shape: t.shape, dtype: t.dtype, values: Array.from(t.dataSync()) })

/**
 * Selects a backend (threads: the available cores). The wasm kernels run on XNNPACK unless `blas`
 * says otherwise (blas.test.ts covers the native path).
 */
export const use = (name: "cpu" | "wasm", blas = "none"): Promise<unknown> => Effect.runPromise(Backends.init({ name, blas }))

/** Runs `f` on the current backend inside tidy and reads every output back. */
export const run = (f: () => tf.Tensor | ReadonlyArray<tf.Tensor>): Array<Result> =>
  Tensors.tidyValue(() => {
    const r = f()
    return (Array.isArray(r) ? r : [r]).map(read)
  })

/** Live data buckets on the current backend (kernel-internal temporaries included). */
export const dataIds = (): number => tf.engine().backend.numDataIds()

/**
 * Runs `f` on cpu then on wasm and asserts equal shapes and dtypes, and values within
 * `tol * max(1, max |reference|)`. Also asserts that the wasm run leaves no tensors and no backend
 * data behind. Returns the largest relative error seen.
 */
export const expectSameOnCpuAndWasm = async (
  label: string,
  f: () => tf.Tensor | ReadonlyArray<tf.Tensor>,
  tol = 1e-5
): Promise<number> => {
  await use("cpu")
  const expected = run(f)
  await use("wasm")
  const tensorsBefore = tf.memory().numTensors
  const dataBefore = dataIds()
  const actual = run(f)
  expect(tf.memory().numTensors, `${label}: tensors leaked`).toBe(tensorsBefore)
  expect(dataIds(), `${label}: wasm data leaked`).toBe(dataBefore)
  return expectClose(label, actual, expected, tol)
}

/** Asserts two result lists agree (shapes, dtypes, values within tolerance); returns the max relative error. */
export const expectClose = (
  label: string,
  actual: ReadonlyArray<Result>,
  expected: ReadonlyArray<Result>,
  tol = 1e-5
): number => {
  expect(actual.length, label).toBe(expected.length)
  let worst = 0
  expected.forEach((e, i) => {
    const a = actual[i]!
    expect(a.shape, `${label}[${i}] shape`).toEqual(e.shape)
    expect(a.dtype, `${label}[${i}] dtype`).toBe(e.dtype)
    expect(a.values.length, `${label}[${i}] size`).toBe(e.values.length)
    let scale = 1
    let err = 0
    e.values.forEach((v, j) => {
      scale = Math.max(scale, Math.abs(v))
      err = Math.max(err, Math.abs(v - a.values[j]!))
    })
    expect(err / scale, `${label}[${i}] max error ${err} (scale ${scale})`).toBeLessThanOrEqual(tol)
    worst = Math.max(worst, err / scale)
  })
  return worst
}
