/**
 * retrain-subsets ("overtraining"): train the baseline for 300 steps, then freeze everything except
 * a subset of FF neurons (the 10% smallest by magnitude, the 10% largest, 10% random ones, or all
 * FF neurons) and retrain only those for 100 steps under a fresh AdamW (peak lr 1e-3, 10 warm-up
 * steps); the run stops there. A study: one run per subset; compare the final eval losses (how
 * much can each subset still learn?).
 */
import { definePipeline, study } from "@rekindle/pipeline"
import baseline from "./baseline.ts"

const base = definePipeline({
  ...baseline,
  name: "retrain-subsets",
  // the study's report overlays the subsets' loss curves and their magnitude distributions
  probes: [{ use: "probe/magnitudes" }, { use: "probe/activations" }],
  log: [{ use: "log/console" }, { use: "log/jsonl" }, { use: "log/report" }],
  hooks: [{ use: "hooks/retrain", at: 300, subset: "smallest", fraction: 0.1, steps: 100, warmup: 10, lr: 1e-3, then: "stop" }]
})

export default study({
  base,
  grid: { "hooks.0.subset": ["smallest", "largest", "random", "all"] }
})
