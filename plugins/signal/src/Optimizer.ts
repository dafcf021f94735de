/**
 * `signal/second-moment`: the mean over neuron i's parameter scalars (W_in column, W_out row,
 * biases, GLU gate) of an optimizer slot, by default Adam's second moment `adam.nu` (the running
 * mean of squared gradients, before bias correction). Free: the slots exist anyway.
 */
import { Bug, type Signal } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import { neuronSize, sumOverSlices } from "./Reduce.ts"

/** `signal/second-moment` (or any other slot, by name). */
export const secondMoment = (options: { readonly slot: string }): Signal.Signal => ({
  needs: { optimizer: true },
  compute: (v) => {
    const slot = v.slots?.[options.slot]
    if (slot === undefined) throw new Bug(`signal/second-moment: the optimizer has no slot "${options.slot}" for layer ${v.layer.layer}`)
    return tf.div(sumOverSlices(v.layer, slot, (t) => t), neuronSize(v.layer, slot)) as tf.Tensor1D
  },
  check: (c) =>
    c.slots[options.slot] === undefined
      ? `signal/second-moment reads the optimizer slot "${options.slot}", but the optimizer keeps ${
        Object.keys(c.slots).length === 0 ? "no slots" : `only ${Object.keys(c.slots).map((s) => `"${s}"`).join(", ")}`
      }`
      : undefined
})
