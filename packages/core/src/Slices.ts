/**
 * Neuron-slice tensor operations: masks over one axis, and building a tensor equal to another
 * except on chosen indices along an axis (column i of W_in, row i of W_out, entry i of a bias).
 * Reinitializers, optimizer-slot resets and invariant checks use these. Every function builds
 * new tensors (gather / where / mask arithmetic) and never edits a tensor's memory in place; none
 * disposes its inputs. Call them inside `tf.tidy` when intermediate tensors should be freed.
 * `mergeAlong` and `fillAlong` on float32 run the kernel {@link setAlongKernel} where the backend
 * has one registered (the engine registers it on wasm: a copy plus slice writes on the heap, no
 * full-size mask); its result is the same as the `where` composition's, bit for bit.
 */
import * as tf from "@tensorflow/tfjs-core"

/**
 * The name of the optional kernel behind `mergeAlong` / `fillAlong`: inputs `x` and optionally
 * `source` (same shape, both float32), attrs `axis`, `indices` (unique, in range) and `value`;
 * output a new tensor equal to `x` except on the slices at `indices` along `axis`, which hold
 * `source`'s elements there (or `value` without `source`).
 */
export const setAlongKernel = "RekindleSetAlong"

/** `setAlongKernel`'s result, or undefined where it does not apply (no such kernel, not float32). */
const setAlong = (t: tf.Tensor, axis: number, indices: ReadonlyArray<number>, value: number, source?: tf.Tensor): tf.Tensor | undefined => {
  if (t.dtype !== "float32" || (source !== undefined && source.dtype !== "float32")) return undefined
  if (tf.getKernel(setAlongKernel, tf.getBackend()) === undefined) return undefined
  checkIndices(t.shape[axis]!, indices)
  const inputs = source === undefined ? { x: t } : { x: t, source }
  return tf.engine().runKernel(setAlongKernel, inputs, { axis, indices: [...indices], value }) as tf.Tensor
}

/** Throws a RangeError unless `indices` are integers in [0, n), each at most once when `unique`. */
export const checkIndices = (n: number, indices: ReadonlyArray<number>, unique = true): void => {
  const seen = new Uint8Array(n)
  for (const i of indices) {
    if (!Number.isInteger(i) || i < 0 || i >= n) throw new RangeError(`Slices: index ${i} out of range [0, ${n})`)
    if (unique && seen[i] === 1) throw new RangeError(`Slices: index ${i} appears twice`)
    seen[i] = 1
  }
}

const axisSize = (t: tf.Tensor, axis: number): number => {
  const n = t.shape[axis]
  if (n === undefined) throw new RangeError(`Slices: axis ${axis} out of range for shape [${t.shape.join(", ")}]`)
  return n
}

/** A float32 `[n]` vector: 1 at `indices`, 0 elsewhere. */
export const indexMask = (n: number, indices: ReadonlyArray<number>): tf.Tensor1D => {
  checkIndices(n, indices)
  const data = new Float32Array(n)
  for (const i of indices) data[i] = 1
  return tf.tensor1d(data, "float32")
}

/**
 * A mask broadcastable to `shape`: `shape` with every axis but `axis` set to 1, true (or 1) at
 * `indices` along `axis`. `dtype: "bool"` (default) for `tf.where`, `"float32"` for multiplying.
 */
export const axisMask = (
  shape: ReadonlyArray<number>,
  axis: number,
  indices: ReadonlyArray<number>,
  dtype: "bool" | "float32" = "bool"
): tf.Tensor => {
  const n = shape[axis]
  if (n === undefined) throw new RangeError(`Slices: axis ${axis} out of range for shape [${shape.join(", ")}]`)
  checkIndices(n, indices)
  const data = dtype === "bool" ? new Uint8Array(n) : new Float32Array(n)
  for (const i of indices) data[i] = 1
  return tf.tensor(data, shape.map((d, a) => (a === axis ? d : 1)), dtype)
}

/** Some slices of a tensor: `indices` along `axis`. */
export interface Along {
  readonly axis: number
  readonly indices: ReadonlyArray<number>
}

/**
 * The full-shape boolean mask that is true on every element of the given slices (their union).
 * Built in JS: `tf.where` with a full-shape condition avoids broadcasting, which is slow on some backends.
 */
const unionMask = (shape: ReadonlyArray<number>, slices: ReadonlyArray<Along>): tf.Tensor => {
  const data = new Uint8Array(shape.reduce((a, b) => a * b, 1))
  for (const { axis, indices } of slices) {
    const n = shape[axis]
    if (n === undefined) throw new RangeError(`Slices: axis ${axis} out of range for shape [${shape.join(", ")}]`)
    checkIndices(n, indices)
    const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1)
    const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1)
    for (let o = 0; o < outer; o++) {
      for (const i of indices) data.fill(1, (o * n + i) * inner, (o * n + i + 1) * inner)
    }
  }
  return tf.tensor(data, [...shape], "bool")
}

/** The full-shape boolean mask that is true on the slices at `indices` along `axis`. */
export const sliceMask = (shape: ReadonlyArray<number>, axis: number, indices: ReadonlyArray<number>): tf.Tensor =>
  unionMask(shape, [{ axis, indices }])

/**
 * The slices of `t` at `indices` along `axis`, in that order (shape of `t` with
 * `shape[axis] = indices.length`); an index may repeat.
 */
export const gatherAlong = (t: tf.Tensor, axis: number, indices: ReadonlyArray<number>): tf.Tensor => {
  checkIndices(axisSize(t, axis), indices, false)
  return tf.tidy(() => tf.gather(t, tf.tensor1d(Int32Array.from(indices), "int32"), axis))
}

/** A float32 `[k, n]` matrix with row j one-hot at `indices[j]`. */
const placement = (n: number, indices: ReadonlyArray<number>): tf.Tensor2D => {
  const data = new Float32Array(indices.length * n)
  indices.forEach((i, j) => {
    data[j * n + i] = 1
  })
  return tf.tensor2d(data, [indices.length, n])
}

/**
 * Slice-shaped `values` spread to the full shape of `t` (row j at `indices[j]`, zeros elsewhere);
 * a product with a one-hot placement matrix for matrices (exact for finite values), a gather otherwise.
 */
const spread = (t: tf.Tensor, axis: number, indices: ReadonlyArray<number>, values: tf.Tensor): tf.Tensor => {
  const n = t.shape[axis]!
  const v = tf.cast(values, "float32")
  if (t.shape.length === 2 && t.dtype === "float32") {
    const p = placement(n, indices)
    return axis === 0 ? tf.matMul(p, v as tf.Tensor2D, true, false) : tf.matMul(v as tf.Tensor2D, p)
  }
  const position = new Int32Array(n)
  indices.forEach((i, j) => {
    position[i] = j
  })
  return tf.cast(tf.gather(v, tf.tensor1d(position, "int32"), axis), t.dtype)
}

/**
 * `t` with its slices at `indices` along `axis` replaced by `values`, which is shaped like those
 * slices (`t.shape` with `shape[axis] = indices.length`; row j of `values` goes to `indices[j]`).
 */
export const replaceAlong = (t: tf.Tensor, axis: number, indices: ReadonlyArray<number>, values: tf.Tensor): tf.Tensor => {
  axisSize(t, axis)
  const expected = t.shape.map((d, a) => (a === axis ? indices.length : d))
  if (values.shape.length !== expected.length || values.shape.some((d, a) => d !== expected[a])) {
    throw new RangeError(`Slices.replaceAlong: values have shape [${values.shape.join(", ")}], expected [${expected.join(", ")}]`)
  }
  checkIndices(t.shape[axis]!, indices)
  if (indices.length === 0) return tf.clone(t)
  return tf.tidy(() => tf.where(sliceMask(t.shape, axis, indices), spread(t, axis, indices, values), t))
}

/** `t` with its slices at `indices` along `axis` taken from `source` (same shape as `t`). */
export const mergeAlong = (t: tf.Tensor, axis: number, indices: ReadonlyArray<number>, source: tf.Tensor): tf.Tensor => {
  if (source.shape.join() !== t.shape.join()) {
    throw new RangeError(`Slices.mergeAlong: source has shape [${source.shape.join(", ")}], expected [${t.shape.join(", ")}]`)
  }
  axisSize(t, axis)
  if (indices.length === 0) return tf.clone(t)
  return setAlong(t, axis, indices, 0, source) ?? tf.tidy(() => tf.where(sliceMask(t.shape, axis, indices), tf.cast(source, t.dtype), t))
}

/**
 * `fillAlong` over every one of `slices` at once, for filling several tensors of one shape alike
 * (the optimizer slots of one parameter). Where the kernel applies it runs once per slice; elsewhere
 * one `where` with the full-shape mask of all the slices, built at the first call and reused by
 * the later ones (so call it inside a `tf.tidy` that lasts as long as the filler: the mask is freed
 * with it). Same values as `fillAlong` applied slice by slice.
 */
export const fillerAlong = (slices: ReadonlyArray<Along>): (t: tf.Tensor, value: number) => tf.Tensor => {
  const filled = slices.filter((s) => s.indices.length > 0)
  let mask: tf.Tensor | undefined
  return (t, value) => {
    for (const s of slices) axisSize(t, s.axis)
    if (filled.length === 0) return tf.clone(t)
    const first = setAlong(t, filled[0]!.axis, filled[0]!.indices, value)
    if (first !== undefined) return filled.slice(1).reduce((x, s) => setAlong(x, s.axis, s.indices, value)!, first)
    if (mask === undefined) mask = unionMask(t.shape, filled)
    else if (mask.shape.join() !== t.shape.join()) {
      throw new RangeError(`Slices.fillerAlong: shape [${t.shape.join(", ")}], but the mask was built for [${mask.shape.join(", ")}]`)
    }
    const m = mask
    return tf.tidy(() => tf.where(m, tf.fill(t.shape, value, t.dtype), t))
  }
}

/** `t` with every element of its slices at `indices` along `axis` set to `value` (NaN cleared too). */
export const fillAlong = (t: tf.Tensor, axis: number, indices: ReadonlyArray<number>, value: number): tf.Tensor =>
  tf.tidy(() => fillerAlong([{ axis, indices }])(t, value))

/**
 * Per index along `axis`, how many elements of that slice differ between `a` and `b` (exact
 * comparison; NaN equals NaN), as a float32 `[shape[axis]]` vector. Shapes must match.
 */
export const changedAlong = (a: tf.Tensor, b: tf.Tensor, axis: number): tf.Tensor1D => {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new RangeError(`Slices.changedAlong: shapes [${a.shape.join(", ")}] and [${b.shape.join(", ")}] differ`)
  }
  axisSize(a, axis)
  return tf.tidy(() => {
    const others = a.shape.map((_, i) => i).filter((i) => i !== axis)
    const count = (x: tf.Tensor) => (others.length === 0 ? tf.cast(x, "float32") : tf.sum(tf.cast(x, "float32"), others))
    if (a.dataId === b.dataId) return tf.zeros([a.shape[axis]!]) as tf.Tensor1D
    // a ≠ b counts NaN positions too; subtract the positions where both are NaN
    return tf.sub(count(tf.notEqual(a, b)), count(tf.logicalAnd(tf.isNaN(a), tf.isNaN(b)))) as tf.Tensor1D
  })
}
