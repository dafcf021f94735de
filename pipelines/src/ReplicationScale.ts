/**
 * The replication's scale, in one place: the model, data and optimizer every arm of
 * `pipelines/replication.ts` trains with, the run length, and the reference study's event times
 * scaled from its 80,000 steps to ours. `atReplicationScale` puts any preset at this scale; the
 * study's arms are presets passed through it plus the one change their finding needs.
 *
 * Found by a scale search (docs/replication.md): a configuration on the embedded engine where
 * the recycling cycle (F6) appears and 66 runs fit in an hour on 2 cores. The magnitude split
 * (F1) and the FF layer's loss effects (F2-F4) did not appear at any scale that fits that budget.
 */
import type { AnyPipeline } from "@rekindle/pipeline"

/** The model of every arm (the d_ff arms change only `dFF`). */
export const model = { dModel: 64, heads: 2, layers: 2, dFF: 256, seqLen: 32 } as const

/** Training steps of every arm (a retraining arm that stops ends earlier). */
export const steps = 3000

/** Sequences per batch. */
const batchSize = 16

/** AdamW's learning rate, constant (no warm-up, no decay), as the study trained. */
const lr = 1e-3

/** The reference study's training length, the unit its event times are given in. */
const studySteps = 80_000

/** One of the study's steps in ours: its event times scale by this (3000 / 80,000). */
const timeScale = steps / studySteps

/** A step of the study (e.g. 10,000) at our scale (375), rounded down. */
export const scaled = (studyStep: number): number => Math.floor(studyStep * timeScale)

/** Evaluations every this many steps (the study's 10k). */
const evalEvery = scaled(10_000)

/** The magnitude histograms (F1: histograms over time) every this many steps (the study's 10k). */
const probeEvery = scaled(10_000)

/** Checkpoints every this many steps, so an interrupted cell resumes (`rekindle replicate` again). */
const checkpointEvery = 750

/**
 * The study's recycling events, "every 10k from 10k" until its last event before 80k (70k):
 * every 375 from 375 until 2625 here, 7 rounds like the study's.
 */
export const events = { every: scaled(10_000), from: scaled(10_000), until: scaled(70_000) } as const

/** The wasm backend with one thread: cells run two at a time on 2 cores. */
const backend = { name: "wasm", threads: 1 } as const

/**
 * Decoupled weight decay of the weight-decay arm (F5's weight-decay half). What weight decay does
 * to a weight over a run is a shrink by about exp(−lr·wd·steps); the study's BERT total is
 * 1e-3 · 0.01 · 80,000 = 0.8, so our arm decays by the same total over our run:
 * wd = 0.8 / (1e-3 · 3000) ≈ 0.267. Every other arm has no decay (the study used Adam).
 */
const studyDecayTotal = 1e-3 * 0.01 * studySteps

/** The weight-decay arm's decay: `studyDecayTotal / (lr · steps)`. */
export const weightDecay = studyDecayTotal / (lr * steps)

/** The shape every preset has that the scale sets (a preset written with `definePipeline`). */
type Scalable = AnyPipeline & {
  readonly model?: object
  readonly optimizer?: unknown
  readonly train?: object
  readonly recycling?: ReadonlyArray<unknown>
}

/**
 * A preset at the replication scale: the model, batch, steps, constant-lr AdamW without weight
 * decay, evaluation and checkpoint cadence, the magnitude histograms (and the recycle counts where
 * the preset recycles) and the one-thread wasm backend. Everything else (data, recycling stages,
 * hooks) is the preset's; the arms then set their event times with `events` and `scaled`.
 */
export const atReplicationScale = <P extends Scalable>(preset: P): P => ({
  ...preset,
  backend,
  model: { ...preset.model, ...model },
  optimizer: { ...(preset.optimizer as object), use: "optim/adamw", lr, weightDecay: 0, schedule: { kind: "constant" } },
  train: { ...preset.train, steps, batchSize, evalEvery, checkpointEvery },
  probes: [
    { use: "probe/magnitudes", every: probeEvery },
    ...((preset.recycling?.length ?? 0) > 0 ? [{ use: "probe/recycle-counts", every: probeEvery }] : [])
  ]
})
