/**
 * Reinitializers: given the chosen neurons, new values for the parameters that hold them. Pure
 * TF.js code run by the host inside `tf.tidy`; the host assigns the values, applies the stage's
 * optimizer-state policy to the same slices and checks that nothing else changed.
 */
import type * as tf from "@tensorflow/tfjs-core"
import type { Key } from "./Key.ts"
import type { ParamMap } from "./Params.ts"
import type { Selection } from "./Selection.ts"
import type { Topology } from "./Topology.ts"

/** Everything a reinitializer may read. */
export interface ReinitContext {
  readonly step: number
  /** Current values of all parameters. */
  readonly params: ParamMap
  readonly topology: Topology
  readonly selection: Selection
  readonly key: Key
  /** A fresh draw from the model's own init distribution for a parameter (full shape). */
  readonly initial: (param: string, key: Key) => tf.Tensor
}

/** A reinitializer. `apply` returns replacement tensors for the parameters it touches, full shape. */
export interface Reinitializer {
  /**
   * `true` when the new values must differ from the old only on chosen slices (every built-in);
   * the host checks this invariant.
   */
  readonly slicesOnly: boolean
  /**
   * Smooth reinitialization: when present, the host keeps the chosen neurons' old weights frozen
   * and blends each layer's output as (1 − α)·old + α·new, α rising linearly from 0 at the reset
   * to 1 after `steps` optimizer steps, when the old weights are dropped.
   */
  readonly blend?: { readonly steps: number }
  readonly apply: (ctx: ReinitContext) => Record<string, tf.Tensor>
}
