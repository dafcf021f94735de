/**
 * replication: the reference study (../shared/reference-study.md, findings F1-F11) as one study of
 * named arms, what `rekindle replicate` runs. Every arm is an existing preset at the replication
 * scale (`src/ReplicationScale.ts`: the one place the scale is set) plus the one change its finding
 * needs, with the study's event times scaled from 80,000 steps to ours. The arm ids are the ones
 * the findings analysis reads (`armIds` of @rekindle/replication). Seeds 1, 2, 3.
 */
import { type AnyPipeline, type ArmsStudy, override, study } from "@rekindle/pipeline"
import type { Arms } from "@rekindle/replication"
import baselinePreset from "./baseline.ts"
import dffSweep from "./dff-sweep.ts"
import midpointLoss from "./midpoint-loss.ts"
import pruningCriteria from "./pruning-criteria.ts"
import recycleCopy from "./recycle-copy.ts"
import recycleCurrentDistribution from "./recycle-current-distribution.ts"
import recycleImmunity from "./recycle-immunity.ts"
import recycleInitial from "./recycle-initial.ts"
import recycleSmooth from "./recycle-smooth.ts"
import retrainSubsets from "./retrain-subsets.ts"
import * as Scale from "./src/ReplicationScale.ts"
import weightDecayStudy from "./weight-decay.ts"

const scaled = Scale.atReplicationScale

/** F3: the study prunes to 100% on a linear ramp from 10k to the end of training. */
const pruningFinal = 1.0
/** F3: the pruning mask grows every 1k of the study's steps (37 of ours). */
const pruningEvery = Scale.scaled(1000)

/** F4: FF-only retraining at 50k for the study's 50-60k window, of 10% of each layer (or all). */
const retrainAt = Scale.scaled(50_000)
const retrainSteps = Scale.scaled(10_000)

/**
 * F9/F10: the study recycles a small share every 1k steps (70 events); we have the 7 events of
 * `Scale.events`, so each of ours takes 10× the study's share: the same total share of the layer
 * and the same ratio between the small and the large arm (copy 0.1% / 0.5% → 1% / 5%; smooth
 * 0.1% / 1% → 1% / 10%).
 */
const perEventShare = (studyShare: number) => studyShare * 10
/** F10: α rises 0 → 1 over 1k of the study's steps (37 of ours). */
const smoothSteps = Scale.scaled(1000)

/**
 * F11: the study's midpoint loss is Σ d(M, sg(layer mean)), d the distance |M − c|: p 1, center
 * the mean (the hook's stop-gradient center).
 */
const midpointP = 1

const baseline = scaled({ ...baselinePreset, name: "replication" })

/** A recycling preset at our event times (recycle-initial: 10% magnitude-smallest, reinit/initial, 7 rounds). */
const recycledWith = (p: typeof recycleInitial) => override(scaled(p), "recycling.0.schedule", Scale.events)

const pruned = (criterion: "select/magnitude-smallest" | "select/random" | "select/magnitude-largest") =>
  override(scaled(pruningCriteria.base), "hooks.0", {
    use: "hooks/pruning",
    from: Scale.events.from,
    // the final fraction is reached at the last step (`until` must be a step of the run)
    until: Scale.steps - 1,
    final: pruningFinal,
    every: pruningEvery,
    criterion: { use: criterion }
  })

/** The retraining arms stop when their window ends (as the retrain-subsets preset): their run is that long. */
const retrained = (subset: "smallest" | "largest" | "all") => {
  const window = override(override(scaled(retrainSubsets.base), "hooks.0.at", retrainAt), "hooks.0.steps", retrainSteps)
  return override(override(window, "hooks.0.subset", subset), "train.steps", retrainAt + retrainSteps)
}

/** A d_ff arm; without an FF layer (dFF 0) there are no magnitudes to histogram. */
const withFF = (dFF: number) => {
  const p = override(scaled(dffSweep.base), "model.dFF", dFF)
  return dFF === 0 ? { ...p, probes: [] } : p
}

const immune = (k: number) => override(recycledWith(recycleImmunity.base), "recycling.0.immunity", k)

const copying = (studyShare: number) => override(recycledWith(recycleCopy), "recycling.0.select.fraction", perEventShare(studyShare))

const smoothing = (studyShare: number) =>
  override(override(recycledWith(recycleSmooth), "recycling.0.select.fraction", perEventShare(studyShare)), "recycling.0.reinit", {
    use: "reinit/smooth",
    steps: smoothSteps
  })

const midpoint = (coefficient: number) =>
  override(override(override(scaled(midpointLoss.base), "hooks.0.coefficient", coefficient), "hooks.0.p", midpointP), "hooks.0.center", "mean")

/** The study: every arm id of the analysis (the type checks none is missing or extra), in its order. */
const replication: ArmsStudy<Readonly<Record<Arms.ArmId, AnyPipeline>>> = study({
  name: "replication",
  seeds: [1, 2, 3],
  arms: {
    "baseline": baseline,
    "dff-0": withFF(0),
    "dff-half": withFF(Scale.model.dFF / 2),
    "dff-double": withFF(Scale.model.dFF * 2),
    "prune-smallest": pruned("select/magnitude-smallest"),
    "prune-random": pruned("select/random"),
    "prune-largest": pruned("select/magnitude-largest"),
    "retrain-smallest": retrained("smallest"),
    "retrain-largest": retrained("largest"),
    "retrain-all": retrained("all"),
    "weight-decay": override(scaled(weightDecayStudy.base), "optimizer.weightDecay", Scale.weightDecay),
    "recycle-initial": recycledWith(recycleInitial),
    "immunity-3": immune(3),
    "immunity-7": immune(7),
    "recycle-current": recycledWith(recycleCurrentDistribution),
    "copy-small": copying(0.001),
    "copy-large": copying(0.005),
    "smooth-small": smoothing(0.001),
    "smooth-large": smoothing(0.01),
    "midpoint-1e-7": midpoint(1e-7),
    "midpoint-1e-3": midpoint(1e-3),
    "midpoint-1": midpoint(1)
  }
})

export default replication
