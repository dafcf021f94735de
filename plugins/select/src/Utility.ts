/**
 * `select/utility`: Continual-Backprop contribution utility (Dohare et al. 2024). Per neuron,
 * y_i = E|h_i| · Σ_j |W_out[i, j]| (mean |activation| on the probe batch times the L1 norm of the
 * outgoing weights); the utility is its running average u ← η·u + (1 − η)·y, bias-corrected by
 * 1 − η^age where age counts observations since the neuron's last reset.
 *
 * Cadence: the host calls `observe` before the update of every step s with s % `every` == 0,
 * measuring activations on its probe batch (one forward pass, no gradients). After any recycling
 * event the host calls `forget`, which restarts the recycled neurons' average (u = 0, age = 0).
 * At selection, a neuron never observed since its reset is scored by its instantaneous y from the
 * selection-time signals. Rank count: the k lowest utilities, exactly k. Pair it with stage
 * `immunity` to play the role of CBP's maturity threshold.
 */
import { Bug, type Criterion, type LayerSignals, type Selection as S, type Signals } from "@rekindle/core"
import { Selection } from "@rekindle/core"
import { activationsOf } from "./Activations.ts"

/** Options of `utility`. */
export interface UtilityOptions {
  /** Running-average decay η in [0, 1). */
  readonly decay: number
  /** Steps between observations (≥ 1). */
  readonly every: number
}

/** Running utility per layer: the (uncorrected) average and the observations since each neuron's reset. */
export interface UtilityState {
  readonly u: ReadonlyArray<Float64Array>
  readonly age: ReadonlyArray<Int32Array>
}

/** y_i = E|h_i| · ‖W_out[i, :]‖₁ of one layer. */
export const instantaneous = (layer: LayerSignals): Float64Array => {
  const meanAbs = activationsOf(layer, "select/utility").meanAbs
  const outL1 = layer.outL1
  if (outL1 === undefined) throw new Bug(`select/utility: layer ${layer.layer} has no outL1 signal (Σ_j |W_out[i, j]|)`)
  const y = new Float64Array(layer.dFF)
  for (let i = 0; i < y.length; i++) y[i] = meanAbs[i]! * outL1[i]!
  return y
}

/** The bias-corrected utilities of a state, with instantaneous values for never-observed neurons. */
export const utilities = (state: UtilityState, signals: Signals, decay: number): Array<Float64Array> =>
  signals.layers.map((layer, l) => {
    const u = state.u[l]!
    const age = state.age[l]!
    let y: Float64Array | undefined
    const out = new Float64Array(u.length)
    for (let i = 0; i < u.length; i++) {
      if (age[i]! > 0) out[i] = u[i]! / (1 - decay ** age[i]!)
      else out[i] = (y ??= instantaneous(layer))[i]!
    }
    return out
  })

/** The Continual-Backprop utility criterion. */
export const utility = (options: UtilityOptions): Criterion<UtilityState> => ({
  needs: { activations: true },
  count: "rank",
  observeEvery: options.every,
  init: (topology) => ({
    u: topology.layers.map((l) => new Float64Array(l.dFF)),
    age: topology.layers.map((l) => new Int32Array(l.dFF))
  }),
  observe: (state, signals) => {
    const eta = options.decay
    const u = state.u.map((prev, l) => {
      const y = instantaneous(signals.layers[l]!)
      return prev.map((x, i) => eta * x + (1 - eta) * y[i]!)
    })
    const age = state.age.map((a) => a.map((n) => n + 1))
    return { u, age }
  },
  forget: (state, recycled: S.Selection) => {
    const u = state.u.map((x) => x.slice())
    const age = state.age.map((a) => a.slice())
    for (const l of recycled.layers) {
      for (const i of l.indices) {
        u[l.layer]![i] = 0
        age[l.layer]![i] = 0
      }
    }
    return { u, age }
  },
  select: (state, signals, request) =>
    Selection.byRank(utilities(state, signals, options.decay).map((x) => Array.from(x)), request, "lowest")
})
