/**
 * Neuron-slice tensor operations: masks over one axis, and building a tensor equal to another
 * except on chosen indices along an axis (column i of W_in, row i of W_out, entry i of a bias).
 * Reinitializers, optimizer-slot resets and invariant checks use these. Every function builds
 * new tensors (gather / where / mask arithmetic) and never edits a tensor's memory in place; none
 * disposes its inputs. Call them inside `tf.tidy` when intermediate tensors should be freed.
 */
import * as tf from "@tensorflow/tfjs-core"

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

/**
 * The slices of `t` at `indices` along `axis`, in that order (shape of `t` with
 * `shape[axis] = indices.length`); an index may repeat.
 */
export const gatherAlong = (t: tf.Tensor, axis: number, indices: ReadonlyArray<number>): tf.Tensor => {
  checkIndices(axisSize(t, axis), indices, false)
  return tf.tidy(() => tf.gather(t, tf.tensor1d(Int32Array.from(indices), "int32"), axis))
}

/**
 * `t` with its slices at `indices` along `axis` replaced by `values`, which is shaped like those
 * slices (`t.shape` with `shape[axis] = indices.length`; row j of `values` goes to `indices[j]`).
 */
export const replaceAlong = (t: tf.Tensor, axis: number, indices: ReadonlyArray<number>, values: tf.Tensor): tf.Tensor => {
  const n = axisSize(t, axis)
  checkIndices(n, indices)
  const expected = t.shape.map((d, a) => (a === axis ? indices.length : d))
  if (values.shape.length !== expected.length || values.shape.some((d, a) => d !== expected[a])) {
    throw new RangeError(`Slices.replaceAlong: values have shape [${values.shape.join(", ")}], expected [${expected.join(", ")}]`)
  }
  if (indices.length === 0) return tf.clone(t)
  return tf.tidy(() => {
    const position = new Int32Array(n)
    indices.forEach((i, j) => {
      position[i] = j
    })
    const spread = tf.gather(tf.cast(values, t.dtype), tf.tensor1d(position, "int32"), axis)
    return tf.where(axisMask(t.shape, axis, indices), spread, t)
  })
}

/** `t` with every element of its slices at `indices` along `axis` set to `value`. */
export const fillAlong = (t: tf.Tensor, axis: number, indices: ReadonlyArray<number>, value: number): tf.Tensor => {
  axisSize(t, axis)
  if (indices.length === 0) return tf.clone(t)
  return tf.tidy(() => tf.where(axisMask(t.shape, axis, indices), tf.scalar(value, t.dtype), t))
}

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
    const bothNaN = tf.logicalAnd(tf.isNaN(a), tf.isNaN(b))
    const differs = tf.cast(tf.logicalAnd(tf.notEqual(a, b), tf.logicalNot(bothNaN)), "float32")
    const others = a.shape.map((_, i) => i).filter((i) => i !== axis)
    return (others.length === 0 ? differs : tf.sum(differs, others)) as tf.Tensor1D
  })
}
