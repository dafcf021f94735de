/**
 * Selection for one stage firing: the request (k = round(fraction · dFF) per layer, or
 * round(fraction · Σ dFF) in global scope; eligibility from immunity and blending), the acting
 * criterion's choice and every shadow criterion's, and their per-layer Jaccard overlaps.
 * Keys: the acting criterion gets `Key.fold(Key.fold(Key.split(root, "selection"), stage), step)`;
 * shadow j gets `Key.fold(Key.split(thatKey, "shadow"), j)`, so shadows never shift the run.
 */
import { type Criterion, Key, Selection, type Signals, type Topology } from "@rekindle/core"
import type { Stage } from "./Stage.ts"

/** The key of a purpose ("selection", "reinit") for one stage firing. */
export const keyFor = (root: Key.Key, purpose: string, stage: number, step: number): Key.Key =>
  Key.fold(Key.fold(Key.split(root, purpose), stage), step)

/** The request of a stage: counts from its fraction and scope, and the eligibility masks. */
export const request = (
  stage: Pick<Stage, "fraction" | "scope">,
  topology: Topology.Topology,
  eligible: ReadonlyArray<Uint8Array>
): Selection.SelectRequest => ({
  scope: stage.scope,
  fraction: stage.fraction,
  k: topology.layers.map((l) => Math.round(stage.fraction * l.dFF)),
  total: Math.round(stage.fraction * topology.layers.reduce((n, l) => n + l.dFF, 0)),
  eligible
})

/** Per layer, 1 where every mask has 1. */
export const intersect = (...masks: ReadonlyArray<ReadonlyArray<Uint8Array>>): Array<Uint8Array> =>
  masks[0]!.map((m, p) => m.map((x, i) => (masks.every((other) => other[p]![i] === 1) ? x : 0)))

/** A shadow criterion's choice. */
export interface ShadowChoice {
  readonly id: string
  readonly selection: Selection.Selection
}

/** Everything one firing chose. */
export interface Choice {
  readonly request: Selection.SelectRequest
  readonly key: Key.Key
  readonly selection: Selection.Selection
  readonly shadows: ReadonlyArray<ShadowChoice>
}

/** Criterion states of one stage: the acting criterion's and each shadow's. */
export interface StageStates {
  readonly main: unknown
  readonly shadows: ReadonlyArray<unknown>
}

/** Runs the stage's criterion and its shadows on the same signals and request. */
export const choose = (
  stage: Pick<Stage, "index" | "criterion" | "shadow">,
  states: StageStates,
  signals: Signals,
  req: Selection.SelectRequest,
  root: Key.Key,
  step: number
): Choice => {
  const key = keyFor(root, "selection", stage.index, step)
  const run = (c: Criterion<any>, state: unknown, k: Key.Key) => c.select(state, signals, req, k)
  return {
    request: req,
    key,
    selection: run(stage.criterion.criterion, states.main, key),
    shadows: stage.shadow.map((s, j) => ({
      id: s.id,
      selection: run(s.criterion, states.shadows[j], Key.fold(Key.split(key, "shadow"), j))
    }))
  }
}

/** The selection restricted to one layer position. */
const onLayer = (s: Selection.Selection, position: number): Selection.Selection => ({
  layers: s.layers[position] === undefined ? [] : [s.layers[position]!]
})

/** Per shadow, its count on a layer and its Jaccard overlap with the acting choice there. */
export const overlaps = (
  choice: Choice,
  position: number
): Array<{ criterion: string; chosen: number; jaccard: number }> =>
  choice.shadows.map((s) => ({
    criterion: s.id,
    chosen: s.selection.layers[position]?.indices.length ?? 0,
    jaccard: Selection.jaccard(onLayer(choice.selection, position), onLayer(s.selection, position))
  }))
