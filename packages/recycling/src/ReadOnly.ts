/**
 * Signals are read-only for criteria at run time, as the conformance kit demands. The host hands
 * every criterion the same signals (the acting criterion, its shadows, every observer), so one that
 * writes into them would silently change what the others see. `guard` freezes the signal objects
 * and arrays (assigning a field throws in module code) and keeps a copy of every vector; `check`
 * after each call throws a RunError naming the criterion and the first changed entry (typed
 * arrays cannot be frozen, so their contents are compared instead).
 */
import { type LayerSignals, RunError, type Signals } from "@rekindle/core"

/** The vectors of one layer, by field path. */
const vectors = (l: LayerSignals): Array<[string, Float32Array]> => [
  ["inNorm", l.inNorm],
  ["outNorm", l.outNorm],
  ["magnitude", l.magnitude],
  ...(l.outL1 !== undefined ? [["outL1", l.outL1] as [string, Float32Array]] : []),
  ...(l.activations !== undefined
    ? [["activations.meanAbs", l.activations.meanAbs], ["activations.firingRate", l.activations.firingRate]] as Array<[string, Float32Array]>
    : [])
]

/** Frozen signals and the check that their vectors are unchanged. */
export interface Guarded {
  readonly signals: Signals
  /** Throws a RunError when `criterion` changed any vector. */
  readonly check: (criterion: string) => void
}

/** Freezes `signals` (objects and arrays) and remembers every vector's values. */
export const guard = (signals: Signals): Guarded => {
  for (const l of signals.layers) {
    if (l.activations !== undefined) Object.freeze(l.activations)
    Object.freeze(l)
  }
  Object.freeze(signals.layers)
  Object.freeze(signals)
  const copies = signals.layers.map((l) => vectors(l).map(([name, v]) => [name, v.slice()] as const))
  return {
    signals,
    check: (criterion) =>
      signals.layers.forEach((l, p) =>
        vectors(l).forEach(([name, v], j) => {
          const before = copies[p]![j]![1]
          for (let i = 0; i < v.length; i++) {
            if (!Object.is(v[i], before[i])) {
              throw new RunError({
                step: signals.step,
                message: `criterion ${criterion} wrote into its signals (layers[${p}].${name}[${i}]: ${before[i]} -> ${v[i]}) at step ` +
                  `${signals.step}; signals are read-only (copy them first: Float32Array.from(...))`
              })
            }
          }
        })
      )
  }
}
