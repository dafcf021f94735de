/**
 * Typed pipeline presets, named after the reference study's experiments (see docs/recycling.md);
 * also end-to-end fixtures. Single pipelines: quickstart, baseline, recycle-initial,
 * recycle-current-distribution, recycle-copy, recycle-smooth. Studies: dff-sweep,
 * recycle-immunity, pruning-criteria, retrain-subsets, midpoint-loss, weight-decay; replication (a
 * study of named arms: the reference study's findings at one scale, `rekindle replicate`).
 */
// the built-in plugins in scope for the presets' definePipeline types
import "@rekindle/builtins"

export { default as baseline } from "../baseline.ts"
export { default as dffSweep } from "../dff-sweep.ts"
export { default as midpointLoss } from "../midpoint-loss.ts"
export { default as pruningCriteria } from "../pruning-criteria.ts"
export { default as quickstart } from "../quickstart.ts"
export { default as recycleCopy } from "../recycle-copy.ts"
export { default as recycleCurrentDistribution } from "../recycle-current-distribution.ts"
export { default as recycleImmunity } from "../recycle-immunity.ts"
export { default as recycleInitial } from "../recycle-initial.ts"
export { default as recycleSmooth } from "../recycle-smooth.ts"
export { default as replication } from "../replication.ts"
export { default as retrainSubsets } from "../retrain-subsets.ts"
export { default as weightDecay } from "../weight-decay.ts"

/** Every preset file name (without `.ts`), as `rekindle run pipelines/<name>.ts` takes it. */
export const presetNames = [
  "quickstart",
  "baseline",
  "dff-sweep",
  "recycle-initial",
  "recycle-immunity",
  "recycle-current-distribution",
  "recycle-copy",
  "recycle-smooth",
  "pruning-criteria",
  "retrain-subsets",
  "midpoint-loss",
  "weight-decay",
  "replication"
] as const
