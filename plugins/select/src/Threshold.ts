/**
 * The choosing rule shared by threshold criteria (dormant, firing rate): every eligible neuron
 * whose score passes the test; with `cap`, at most the requested k per layer (or total, global
 * scope), keeping the lowest scores (ties by layer, then index).
 */
import { Selection } from "@rekindle/core"

/** Chooses the passing neurons, capped at the requested count when `cap` is set. */
export const chooseBelow = (
  scores: ReadonlyArray<Float32Array>,
  request: Selection.SelectRequest,
  passes: (score: number) => boolean,
  cap: boolean
): Selection.Selection => {
  if (!cap) return Selection.where(scores, request, passes)
  const masked = scores.map((s) => s.map((x) => (passes(x) ? x : Number.NaN)))
  return Selection.byRank(masked, request, "lowest")
}
