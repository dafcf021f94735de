/**
 * Gradient signals, from the training step's own backward pass (no extra pass): Taylor reads h and
 * ∂L/∂h only (`needs.step: "hidden"`: computed inside the activation's gradient, during the
 * backward pass, nothing held), grad-norm and SNIP only
 * ∂L/∂W, the step's own gradients (`needs.step: "gradients"`: no capture, nothing held):
 *
 * - `signal/taylor` (Molchanov et al. 2017): |mean over tokens of h_i · ∂L/∂h_i|, the first-order
 *   estimate of the loss change when neuron i is removed;
 * - `signal/grad-norm`: ‖∂L/∂θ_i‖₂ over every parameter scalar θ_i of neuron i (W_in column, W_out
 *   row, biases, GLU gate);
 * - `signal/snip` (Lee et al. 2019): Σ over neuron i's scalars of |θ ⊙ ∂L/∂θ|.
 */
import { Bug, type Signal } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import { columnDot, sumOverSlices } from "./Reduce.ts"

const missing = (id: string, v: Signal.LayerView, what: string): never => {
  throw new Bug(`${id}: layer ${v.layer.layer} has no ${what} in its view (the host observes them only inside a training step)`)
}

/** `signal/taylor` (h and ∂L/∂h only: computed in the tap, at backward time). */
export const taylor = (): Signal.Signal => ({
  needs: { step: "hidden" },
  compute: (v) => {
    const h = v.hidden ?? missing("signal/taylor", v, "activations")
    const dh = v.hiddenGrad ?? missing("signal/taylor", v, "∂L/∂h")
    return tf.div(tf.abs(columnDot(h, dh)), h.shape[0]) as tf.Tensor1D
  }
})

/** `signal/grad-norm` (the step's ∂L/∂W only: no h / ∂L/∂h tap). */
export const gradNorm = (): Signal.Signal => ({
  needs: { step: "gradients" },
  compute: (v) => tf.sqrt(sumOverSlices(v.layer, v.grads ?? missing("signal/grad-norm", v, "∂L/∂W"), (g) => tf.square(g)))
})

/** `signal/snip` (the step's ∂L/∂W only: no h / ∂L/∂h tap). */
export const snip = (): Signal.Signal => ({
  needs: { step: "gradients" },
  compute: (v) => {
    const grads = v.grads ?? missing("signal/snip", v, "∂L/∂W")
    return sumOverSlices(v.layer, v.weights, (w, role) => {
      const g = grads[role]
      return g === undefined ? tf.zerosLike(w) : tf.abs(tf.mul(w, g))
    })
  }
})
