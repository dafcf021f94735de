/**
 * Smooth-reinit blend state, per FF layer: the old W_in / W_out (/ b_in, and W_gate / b_gate for GLU
 * layers) frozen at the reset and,
 * per neuron, the step of its reset and the length of its ramp. At step s neuron i has
 * α_i = clamp((s − start_i) / steps_i, 0, 1), or 1 when it is not blending; the model computes
 * out = h_new·diag(α)·W_out + h_old·diag(1 − α)·oldW_out (`ForwardOptions.blend`). So at the reset
 * step α = 0 and the function is unchanged; after `steps` steps α = 1 and the layer's old weights
 * are disposed once none of its neurons blends. A second smooth reset on a blending layer merges:
 * the new neurons' old slices are written into the kept tensors (they were not blending, since
 * blending neurons are ineligible). The class owns every tensor it holds.
 */
import { Bug, Slices, type Topology, UserError } from "@rekindle/core"
import type { Blend, ForwardOptions } from "@rekindle/model"
import * as tf from "@tensorflow/tfjs-core"

/** One layer's blend: kept tensors plus per-neuron ramps (start NaN = not blending). */
interface LayerBlend {
  readonly oldWin: tf.Tensor2D
  readonly oldWout: tf.Tensor2D
  readonly oldBin: tf.Tensor1D | undefined
  readonly oldWgate: tf.Tensor2D | undefined
  readonly oldBgate: tf.Tensor1D | undefined
  readonly start: Float64Array
  readonly steps: Float64Array
}

/** JSON form of one layer's ramps (tensors travel separately, see `Blends.tensors`). */
export interface LayerBlendJson {
  readonly position: number
  readonly start: ReadonlyArray<number | null>
  readonly steps: ReadonlyArray<number>
}

/** The kept old tensors of a layer by field name (absent ones left out). */
const oldOf = (b: LayerBlend) => ({
  oldWin: b.oldWin,
  oldWout: b.oldWout,
  ...(b.oldBin !== undefined ? { oldBin: b.oldBin } : {}),
  ...(b.oldWgate !== undefined ? { oldWgate: b.oldWgate } : {}),
  ...(b.oldBgate !== undefined ? { oldBgate: b.oldBgate } : {})
})

const sliceOf = (layer: Topology.FFLayer, role: Topology.NeuronSlice["role"]) => layer.slices.find((s) => s.role === role)

/** The blend state of every FF layer. */
export class Blends {
  private readonly layers: Array<LayerBlend | undefined>
  private cached: { step: number; options: ForwardOptions | undefined; alphas: Array<tf.Tensor> } | undefined

  constructor(private readonly topology: Topology.Topology) {
    this.layers = topology.layers.map(() => undefined)
  }

  /** Whether neuron i of layer `position` blends at `step` (1) or not (0). */
  blending(position: number, step: number): Uint8Array {
    const n = this.topology.layers[position]!.dFF
    const b = this.layers[position]
    if (b === undefined) return new Uint8Array(n)
    return Uint8Array.from({ length: n }, (_, i) => (step < b.start[i]! + b.steps[i]! ? 1 : 0))
  }

  /** Per layer, 1 where the neuron is not blending at `step` (eligible for selection). */
  eligible(step: number): Array<Uint8Array> {
    return this.topology.layers.map((_, p) => this.blending(p, step).map((x) => 1 - x))
  }

  /** Whether any layer holds blend state. */
  get active(): boolean {
    return this.layers.some((b) => b !== undefined)
  }

  /**
   * Starts blending `indices` of layer `position` at `step` over `steps` steps. `params` are the
   * values before the reset (read, never kept: the kept old tensors are copies).
   */
  add(position: number, indices: ReadonlyArray<number>, params: Readonly<Record<string, tf.Tensor>>, step: number, steps: number): void {
    if (indices.length === 0) return
    const layer = this.topology.layers[position]!
    const bias = sliceOf(layer, "bias")
    const gate = sliceOf(layer, "gate")
    const gateBias = sliceOf(layer, "gate-bias")
    const prev = this.layers[position]
    const take = <T extends tf.Tensor>(name: string, axis: number, old: T | undefined): T =>
      tf.tidy(() => {
        const now = params[name]
        if (now === undefined) throw new Bug(`smooth reinit: parameter "${name}" is missing`)
        return (old === undefined ? tf.clone(now) : Slices.replaceAlong(old, axis, indices, Slices.gatherAlong(now, axis, indices))) as T
      })
    const next: LayerBlend = {
      oldWin: take(layer.win, 1, prev?.oldWin),
      oldWout: take(layer.wout, 0, prev?.oldWout),
      oldBin: bias === undefined ? undefined : take(bias.param, 0, prev?.oldBin),
      oldWgate: gate === undefined ? undefined : take(gate.param, 1, prev?.oldWgate),
      oldBgate: gateBias === undefined ? undefined : take(gateBias.param, 0, prev?.oldBgate),
      start: prev?.start.slice() ?? new Float64Array(layer.dFF).fill(Number.NaN),
      steps: prev?.steps.slice() ?? new Float64Array(layer.dFF).fill(1)
    }
    for (const i of indices) {
      next.start[i] = step
      next.steps[i] = steps
    }
    this.releaseCached()
    if (prev !== undefined) this.disposeLayer(prev)
    this.layers[position] = next
  }

  /** Per-neuron α of a layer at `step`. */
  alpha(position: number, step: number): Float32Array {
    const b = this.layers[position]
    const n = this.topology.layers[position]!.dFF
    if (b === undefined) return new Float32Array(n).fill(1)
    return Float32Array.from({ length: n }, (_, i) => {
      const s = b.start[i]!
      if (Number.isNaN(s)) return 1
      return Math.min(1, Math.max(0, (step - s) / b.steps[i]!))
    })
  }

  /** Drops (and disposes) the layers in which no neuron blends at `step`. */
  prune(step: number): void {
    this.layers.forEach((b, p) => {
      if (b !== undefined && this.blending(p, step).every((x) => x === 0)) {
        this.releaseCached()
        this.disposeLayer(b)
        this.layers[p] = undefined
      }
    })
  }

  /**
   * The forward options for the loss of `step` (undefined when nothing blends). The α tensors
   * live until the next call with another step (or `dispose`), so evaluation after the step can
   * reuse them.
   */
  forwardOptions(step: number): ForwardOptions | undefined {
    if (this.cached?.step === step) return this.cached.options
    this.prune(step)
    this.releaseCached()
    if (!this.active) {
      this.cached = { step, options: undefined, alphas: [] }
      return undefined
    }
    const alphas: Array<tf.Tensor> = []
    const blend: Array<Blend | undefined> = this.layers.map((b, p) => {
      if (b === undefined) return undefined
      const alpha = tf.tensor1d(this.alpha(p, step), "float32")
      alphas.push(alpha)
      return { ...oldOf(b), alpha }
    })
    const options: ForwardOptions = { blend }
    this.cached = { step, options, alphas }
    return options
  }

  /** The ramps as JSON. */
  toJson(): Array<LayerBlendJson> {
    return this.layers.flatMap((b, position) =>
      b === undefined ? [] : [{ position, start: Array.from(b.start, (x) => (Number.isNaN(x) ? null : x)), steps: Array.from(b.steps) }]
    )
  }

  /** The kept tensors by name (`blend.<position>.oldWin|oldWout|oldBin|oldWgate|oldBgate`); still owned by this object. */
  tensors(): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {}
    this.layers.forEach((b, p) => {
      if (b === undefined) return
      for (const [name, t] of Object.entries(oldOf(b))) out[`blend.${p}.${name}`] = t
    })
    return out
  }

  /** Replaces the state with a snapshot; the tensors are copied (the caller keeps its own). */
  restore(json: ReadonlyArray<LayerBlendJson>, tensors: Readonly<Record<string, tf.Tensor>>): void {
    this.dispose()
    for (const j of json) {
      const get = (name: string) => {
        const t = tensors[`blend.${j.position}.${name}`]
        if (t === undefined) throw new UserError({ message: `recycler restore: blend tensor blend.${j.position}.${name} is missing` })
        return tf.clone(t)
      }
      const layer = this.topology.layers[j.position]!
      const has = (role: Topology.NeuronSlice["role"]) => sliceOf(layer, role) !== undefined
      this.layers[j.position] = {
        oldWin: get("oldWin") as tf.Tensor2D,
        oldWout: get("oldWout") as tf.Tensor2D,
        oldBin: has("bias") ? (get("oldBin") as tf.Tensor1D) : undefined,
        oldWgate: has("gate") ? (get("oldWgate") as tf.Tensor2D) : undefined,
        oldBgate: has("gate-bias") ? (get("oldBgate") as tf.Tensor1D) : undefined,
        start: Float64Array.from(j.start, (x) => (x === null ? Number.NaN : x)),
        steps: Float64Array.from(j.steps)
      }
    }
  }

  /** Disposes every tensor held. */
  dispose(): void {
    this.releaseCached()
    this.layers.forEach((b, p) => {
      if (b !== undefined) this.disposeLayer(b)
      this.layers[p] = undefined
    })
  }

  private releaseCached(): void {
    for (const t of this.cached?.alphas ?? []) t.dispose()
    this.cached = undefined
  }

  private disposeLayer(b: LayerBlend): void {
    b.oldWin.dispose()
    b.oldWout.dispose()
    b.oldBin?.dispose()
    b.oldWgate?.dispose()
    b.oldBgate?.dispose()
  }
}
