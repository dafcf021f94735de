/**
 * Building the per-layer views signals compute from (`Signal.LayerView`) out of name-keyed maps:
 * parameters, the step's gradients, the optimizer's slots, and per-layer h / ∂L/∂h. The host of a
 * run and the conformance suite both build views this way, so a signal sees the same thing in both.
 */
import type * as Params from "./Params.ts"
import type * as Signal from "./Signal.ts"
import type * as Topology from "./Topology.ts"
import * as tf from "@tensorflow/tfjs-core"
import { Bug } from "./Errors.ts"

/** What the host captured for one observation; per-layer arrays are indexed by FF-layer position. */
export interface Capture {
  readonly params: Params.ParamMap
  /** ∂L/∂W by parameter name (a training step). */
  readonly grads?: Params.ParamMap
  /** h per FF layer (the step's or the probe batch's). */
  readonly hidden?: ReadonlyArray<tf.Tensor2D | undefined>
  /** ∂L/∂h per FF layer (a training step). */
  readonly hiddenGrad?: ReadonlyArray<tf.Tensor2D | undefined>
  /** Optimizer slots by slot name, each by parameter name. */
  readonly slots?: Readonly<Record<string, Params.ParamMap>>
}

/** A layer's tensors by slice role from a name-keyed map; `fill` answers for names the map lacks. */
export const tensorsOf = (
  layer: Topology.FFLayer,
  map: Params.ParamMap,
  fill: (param: string) => tf.Tensor | undefined = () => undefined
): Signal.LayerTensors | undefined => {
  const out: Partial<Record<Topology.NeuronSlice["role"], tf.Tensor>> = {}
  for (const s of layer.slices) {
    const t = map[s.param] ?? fill(s.param)
    if (t !== undefined) out[s.role] = t
  }
  return out.in !== undefined && out.out !== undefined ? (out as Signal.LayerTensors) : undefined
}

/**
 * The view of every FF layer. Gradients missing for a parameter (frozen in this step) read as
 * zeros; call inside a `tf.tidy` (the zeros are allocated there).
 */
export const viewsOf = (topology: Topology.Topology, capture: Capture): Array<Signal.LayerView> =>
  topology.layers.map((layer, p) => viewOf(layer, p, capture))

/** The view of one FF layer (position `p` in the per-layer arrays of the capture); see `viewsOf`. */
export const viewOf = (layer: Topology.FFLayer, p: number, capture: Capture): Signal.LayerView => {
  const weights = tensorsOf(layer, capture.params)
  if (weights === undefined) throw new Bug(`signals: the parameters of FF layer ${layer.layer} (${layer.win}, ${layer.wout}) are missing`)
  const grads = capture.grads === undefined
    ? undefined
    : tensorsOf(layer, capture.grads, (name) => (capture.params[name] === undefined ? undefined : tf.zerosLike(capture.params[name]!)))
  const slots = capture.slots === undefined ? undefined : Object.fromEntries(
    Object.entries(capture.slots).flatMap(([name, map]) => {
      const t = tensorsOf(layer, map)
      return t === undefined ? [] : [[name, t] as const]
    })
  )
  const hidden = capture.hidden?.[p]
  const hiddenGrad = capture.hiddenGrad?.[p]
  return {
    layer,
    weights,
    ...(grads !== undefined ? { grads } : {}),
    ...(hidden !== undefined ? { hidden } : {}),
    ...(hiddenGrad !== undefined ? { hiddenGrad } : {}),
    ...(slots !== undefined ? { slots } : {})
  }
}
