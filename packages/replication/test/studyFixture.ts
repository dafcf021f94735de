/**
 * Synthetic study folders for the analysis tests: run folders (events.jsonl written with the core
 * Event schema, pipeline.json) at the replication's scale (2 layers, d_ff 256, 3,000 steps, evals
 * every 375, magnitude histograms every 375, 7 recycling rounds of 26 neurons from 375 to 2,625),
 * whose numbers are chosen so that each finding's answer is known.
 */
import { Event, Key, Stats } from "@rekindle/core"
import * as fs from "node:fs"
import * as path from "node:path"
import type { Arms, Replicate } from "../src/index.ts"

export const steps = 3000
export const dFF = 256
export const k = 26
export const eventSteps = [375, 750, 1125, 1500, 1875, 2250, 2625]

/** How the picks of a recycling arm are made. */
export type PickKind = "cycle" | "groups4" | "fresh" | "random"

/** What an arm of the synthetic study looks like. */
export interface ArmSpec {
  /** Added to the loss curve after the first 1/8 of the run (ramping in linearly before). */
  readonly offset: number
  readonly magnitudes: "split" | "flat" | "tight"
  readonly picks?: PickKind
  /** Loss added for 30 steps after each recycling event. */
  readonly spike?: number
  /** The arm's own per-step loss noise (on top of the seed's data-order noise every arm shares); default 0.003. */
  readonly noise?: number
}

const normals = (key: Key.Key, n: number): Array<number> => {
  const g = Key.normal(key)
  return Array.from({ length: n }, () => g())
}

/** Magnitudes of one layer at a step: `split` grows a high group (53%) away from a fixed low group. */
const magnitudesOf = (kind: ArmSpec["magnitudes"], layer: number, step: number, key: Key.Key): Array<number> => {
  const t = step / steps
  const z = normals(key, dFF)
  if (kind === "tight") return z.map((x) => (0.5 + 0.3 * t) * Math.exp(0.05 * x))
  if (kind === "split" && layer === 0) return z.map((x, i) => (i < 120 ? 0.5 + 0.05 * t : 0.5 + 3 * t) * Math.exp(0.08 * x))
  return z.map((x) => (0.5 + 1.5 * t) * Math.exp((0.05 + 0.2 * t) * x))
}

const picksOf = (kind: PickKind, round: number, layer: number, key: Key.Key): Array<number> => {
  if (kind === "cycle") return [...Array.from({ length: 20 }, (_, i) => i), ...Array.from({ length: 6 }, (_, i) => 100 + round * 6 + i)]
  if (kind === "groups4") return Array.from({ length: k }, (_, i) => (round % 4) * k + i)
  if (kind === "fresh") return Array.from({ length: k }, (_, i) => round * k + i)
  const perm = [...Array.from({ length: dFF }, (_, i) => i)]
  const u = Key.uniform(Key.fold(Key.fold(key, round), layer))
  for (let i = perm.length - 1; i > 0; i--) {
    const j = Math.floor(u() * (i + 1))
    ;[perm[i], perm[j]] = [perm[j]!, perm[i]!]
  }
  return perm.slice(0, k).sort((a, b) => a - b)
}

/** The events of one synthetic run. */
export const events = (arm: string, spec: ArmSpec, seed: number): Array<Event.Event> => {
  const out: Array<Event.Event> = []
  const time = "2026-12-06T00:00:00.000Z"
  out.push(Event.RunStarted.make({ time, run: arm, pipelineHash: "00000000", seed, backend: { name: "wasm", threads: 1, simd: true, overrides: true }, parameters: 1000, steps }))
  const seedKey = Key.make(seed)
  // data-order noise shared by every arm of a seed, plus a little of the arm's own
  const shared = normals(Key.split(seedKey, "data"), steps / 10 + 1)
  const own = normals(Key.split(Key.split(seedKey, "arm"), arm), steps / 10 + 1)
  const seedLevel = 0.02 * normals(Key.split(seedKey, "level"), 1)[0]!
  const lossAt = (step: number): number => {
    const ramp = Math.min(1, step / (steps / 8))
    const spiking = spec.spike !== undefined && spec.picks !== undefined && eventSteps.some((s) => step >= s && step < s + 30)
    return 6 + 2 * Math.exp(-step / 300) - 0.1 * (step / steps) + seedLevel + ramp * spec.offset +
      0.1 * shared[step / 10]! + (spec.noise ?? 0.003) * own[step / 10]! + (spiking ? spec.spike! : 0)
  }
  const resets = [new Array<number>(dFF).fill(0), new Array<number>(dFF).fill(0)]
  for (let step = 0; step <= steps; step += 5) {
    if (step % 375 === 0) {
      for (const layer of [0, 1]) {
        const h = Stats.histogram(magnitudesOf(spec.magnitudes, layer, step, Key.fold(Key.fold(Key.split(seedKey, `mag/${arm}`), layer), step)), 32)
        out.push(Event.Histogram.make({ step, probe: "probe/magnitudes", name: "magnitude", layer, edges: h.edges, counts: h.counts, mean: h.mean, std: h.std }))
      }
    }
    const round = eventSteps.indexOf(step)
    if (spec.picks !== undefined && round >= 0) {
      for (const layer of [0, 1]) {
        const indices = picksOf(spec.picks, round, layer, Key.split(seedKey, `picks/${arm}`))
        for (const i of indices) resets[layer]![i]!++
        out.push(Event.Recycle.make({
          step, stage: 0, layer, criterion: "select/magnitude-smallest", reinit: "reinit/initial", k, indices,
          scores: indices.map(() => 0.5), magnitudeBefore: 1, magnitudeAfter: 1, key: "k", optimizerState: "zero-moments", shadow: []
        }))
        out.push(Event.Lineage.make({
          step, layer, resets: [...resets[layer]!], lastReset: resets[layer]!.map(() => -1), scoreAtReset: resets[layer]!.map(() => 0), magnitude: resets[layer]!.map(() => 1)
        }))
      }
    }
    if (step % 10 === 0) out.push(Event.TrainStep.make({ step, loss: lossAt(step), lr: 1e-3, tokens: 512, ms: 1, tokensPerSec: 1 }))
    if (step % 375 === 0) out.push(Event.Eval.make({ step, loss: lossAt(step) + 0.3, accuracy: 0.1, batches: 4, tokens: 2048 }))
  }
  out.push(Event.RunFinished.make({ time, step: steps, finalLoss: lossAt(steps), finalEvalLoss: lossAt(steps) + 0.3 }))
  return out
}

/** Writes one run folder; returns its path. */
export const writeRun = (root: string, arm: string, spec: ArmSpec, seed: number): string => {
  const dir = path.join(root, `${arm}-s${seed}`)
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(path.join(dir, "events.jsonl"), events(arm, spec, seed).map(Event.encodeLine).join("\n") + "\n")
  fs.writeFileSync(path.join(dir, "pipeline.json"), JSON.stringify({ name: arm, seed, model: { dFF, layers: 2 } }))
  return dir
}

/** A study whose every arm behaves as the reference study found (each finding should be reproduced). */
export const likeTheStudy: Record<Arms.ArmId, ArmSpec> = {
  baseline: { offset: 0, magnitudes: "split" },
  "dff-0": { offset: 0.18, magnitudes: "split" },
  "dff-half": { offset: 0.07, magnitudes: "split" },
  "dff-double": { offset: -0.04, magnitudes: "split" },
  "prune-smallest": { offset: 0.2, magnitudes: "split" },
  "prune-random": { offset: 0.25, magnitudes: "split" },
  "prune-largest": { offset: 0.27, magnitudes: "split" },
  "retrain-smallest": { offset: -0.056, magnitudes: "split" },
  "retrain-largest": { offset: -0.023, magnitudes: "split" },
  "retrain-all": { offset: -0.066, magnitudes: "split" },
  "weight-decay": { offset: 0, magnitudes: "tight" },
  "recycle-initial": { offset: 0.0003, magnitudes: "split", picks: "cycle" },
  "immunity-3": { offset: 0.02, magnitudes: "split", picks: "groups4" },
  "immunity-7": { offset: 0.06, magnitudes: "split", picks: "fresh" },
  "recycle-current": { offset: 0.04, magnitudes: "split", picks: "random", spike: 0.5 },
  "copy-small": { offset: 0, magnitudes: "split", picks: "random" },
  "copy-large": { offset: 0.03, magnitudes: "split", picks: "random" },
  "smooth-small": { offset: 0.005, magnitudes: "split", picks: "random" },
  "smooth-large": { offset: 0.03, magnitudes: "split", picks: "random" },
  "midpoint-1e-7": { offset: 0.001, magnitudes: "split" },
  "midpoint-1e-3": { offset: 0.007, magnitudes: "split" },
  "midpoint-1": { offset: 0.009, magnitudes: "flat" }
}

/** A study where nothing differs from the baseline (every arm's loss is the baseline's): one group of magnitudes, random picks. */
export const nothingHappens: Record<Arms.ArmId, ArmSpec> = Object.fromEntries(
  Object.entries(likeTheStudy).map(([arm, spec]) => [arm, { offset: 0, noise: 0, magnitudes: "flat", ...(spec.picks !== undefined ? { picks: "random" as const } : {}) }])
) as Record<Arms.ArmId, ArmSpec>

/** Writes a study's run folders (every arm × `seeds`, leaving out `without`); returns the runs for `analyze`. */
export const writeStudy = (
  root: string,
  specs: Record<Arms.ArmId, ArmSpec>,
  seeds: ReadonlyArray<number> = [1, 2, 3],
  without: ReadonlyArray<Arms.ArmId> = []
): Array<Replicate.ArmRun> =>
  (Object.keys(specs) as Array<Arms.ArmId>).filter((a) => !without.includes(a)).flatMap((arm) =>
    seeds.map((seed) => ({ arm, seed, dir: writeRun(root, arm, specs[arm], seed) }))
  )
