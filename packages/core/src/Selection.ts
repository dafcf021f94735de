/**
 * The result of a selection criterion, as plain data: per FF layer, the sorted unique indices of
 * the chosen neurons with their scores. Also the request a criterion answers (how many, which
 * neurons are eligible) and the deterministic choosing helpers criteria are built from.
 */

/** The chosen neurons of one layer. */
export interface LayerSelection {
  readonly layer: number
  /** Sorted ascending, unique, each in [0, dFF). */
  readonly indices: ReadonlyArray<number>
  /** The criterion's score of each chosen neuron, aligned with `indices`. */
  readonly scores: ReadonlyArray<number>
}

/** A criterion's choice over all FF layers (one entry per layer, possibly empty). */
export interface Selection {
  readonly layers: ReadonlyArray<LayerSelection>
}

/** What the host asks a criterion for. */
export interface SelectRequest {
  /** `per-layer`: `k[l]` neurons from each layer; `global`: `total` neurons over all layers. */
  readonly scope: "per-layer" | "global"
  /** Per-layer counts (per-layer scope), from `round(fraction * dFF)`. */
  readonly k: ReadonlyArray<number>
  /** Total count (global scope): `round(fraction * sum(dFF))`. */
  readonly total: number
  /** The fraction the counts came from (threshold and Bernoulli criteria use it directly). */
  readonly fraction: number
  /** Per layer, 1 where the neuron may be chosen (0 = immune or otherwise excluded). */
  readonly eligible: ReadonlyArray<Uint8Array>
}

/** Total number of chosen neurons. */
export const count = (s: Selection): number => s.layers.reduce((n, l) => n + l.indices.length, 0)

/** Jaccard overlap of two selections over (layer, index) pairs; 1 when both are empty. */
export const jaccard = (a: Selection, b: Selection): number => {
  const key = (l: number, i: number) => `${l}:${i}`
  const sa = new Set(a.layers.flatMap((l) => l.indices.map((i) => key(l.layer, i))))
  const sb = new Set(b.layers.flatMap((l) => l.indices.map((i) => key(l.layer, i))))
  if (sa.size === 0 && sb.size === 0) return 1
  let inter = 0
  for (const x of sa) if (sb.has(x)) inter++
  return inter / (sa.size + sb.size - inter)
}

/** Total order on (score, layer, index): ties broken by layer then index, so choices are deterministic. */
const byScore = (dir: 1 | -1) => (x: [number, number, number], y: [number, number, number]) =>
  dir * (x[0] - y[0]) || x[1] - y[1] || x[2] - y[2]

const finish = (nLayers: number, picked: Array<[number, number, number]>): Selection => {
  const per: Array<Array<[number, number]>> = Array.from({ length: nLayers }, () => [])
  for (const [s, l, i] of picked) per[l]!.push([i, s])
  return {
    layers: per.map((xs, layer) => {
      xs.sort((p, q) => p[0] - q[0])
      return { layer, indices: xs.map((x) => x[0]), scores: xs.map((x) => x[1]) }
    })
  }
}

/**
 * Chooses the `k` eligible neurons with the lowest (`order: "lowest"`) or highest scores, per
 * layer or globally as the request says. NaN scores are never chosen. Deterministic.
 */
export const byRank = (
  scores: ReadonlyArray<Float32Array | ReadonlyArray<number>>,
  request: SelectRequest,
  order: "lowest" | "highest"
): Selection => {
  const dir = order === "lowest" ? 1 : -1
  const cands = (l: number): Array<[number, number, number]> => {
    const out: Array<[number, number, number]> = []
    const s = scores[l]!
    const e = request.eligible[l]
    for (let i = 0; i < s.length; i++) if ((e === undefined || e[i] === 1) && !Number.isNaN(s[i]!)) out.push([s[i]!, l, i])
    return out
  }
  if (request.scope === "global") {
    const all = scores.flatMap((_, l) => cands(l)).sort(byScore(dir))
    return finish(scores.length, all.slice(0, request.total))
  }
  return finish(
    scores.length,
    scores.flatMap((_, l) => cands(l).sort(byScore(dir)).slice(0, request.k[l] ?? 0))
  )
}

/** Chooses every eligible neuron whose score satisfies `pred` (threshold criteria: dormant, firing rate). */
export const where = (
  scores: ReadonlyArray<Float32Array | ReadonlyArray<number>>,
  request: SelectRequest,
  pred: (score: number, layer: number, index: number) => boolean
): Selection =>
  finish(
    scores.length,
    scores.flatMap((s, l) => {
      const out: Array<[number, number, number]> = []
      const e = request.eligible[l]
      for (let i = 0; i < s.length; i++) if ((e === undefined || e[i] === 1) && pred(s[i]!, l, i)) out.push([s[i]!, l, i])
      return out
    })
  )
