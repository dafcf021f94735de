/**
 * `tidy` for any value holding tensors (an `OptState`, a tuple of maps, ...): `tf.tidy` walks
 * nested plain objects and arrays at runtime but its types only accept `TensorContainer`, which
 * interfaces like `OptState` are not. Tensors reachable from the result are kept; every other
 * tensor made inside `fn` is disposed.
 */
import * as tf from "@tensorflow/tfjs-core"

/** Runs `fn` in a TF.js scope, keeping the tensors reachable from its result. */
export const tidy = <A>(fn: () => A): A => tf.tidy(() => fn() as unknown as tf.TensorContainer) as unknown as A
