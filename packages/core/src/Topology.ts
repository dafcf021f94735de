/**
 * Which parameter slices make up an FF neuron. Neuron i of FF layer l is index i of the hidden
 * dimension: column i of W_in (`[dModel, dFF]`, axis 1), row i of W_out (`[dFF, dModel]`, axis 0),
 * entry i of the hidden bias, and column i of a GLU gate W_gate (`[dModel, dFF]`, axis 1) with entry
 * i of its bias. Everything that edits "neuron i"
 * (reinitializers, optimizer-state resets, invariant checks) goes through these slices.
 */

/** One parameter's share of every neuron of a layer: along `axis`, index i belongs to neuron i. */
export interface NeuronSlice {
  readonly param: string
  readonly axis: 0 | 1
  readonly role: "in" | "out" | "bias" | "gate" | "gate-bias"
}

/** One FF layer's neurons. */
export interface FFLayer {
  /** Position of the block in the model (0-based). */
  readonly layer: number
  readonly dModel: number
  readonly dFF: number
  /** Name of W_in (`[dModel, dFF]`). */
  readonly win: string
  /** Name of W_out (`[dFF, dModel]`). */
  readonly wout: string
  /** Name of the GLU gate W_gate (`[dModel, dFF]`); absent for plain (non-gated) FF layers. */
  readonly gate?: string
  /** Every slice that belongs to a neuron, W_in and W_out included. */
  readonly slices: ReadonlyArray<NeuronSlice>
}

/** All FF layers of a model (empty when dFF = 0). */
export interface Topology {
  readonly layers: ReadonlyArray<FFLayer>
}

/** Names of all parameters that hold neuron slices. */
export const neuronParams = (topology: Topology): Array<string> =>
  topology.layers.flatMap((l) => l.slices.map((s) => s.param))
