/**
 * midpoint-loss: the baseline with an auxiliary loss pulling every FF neuron's magnitude towards
 * its layer's mean, coefficient · Σ |M_i − stopgrad(mean M)|^p, applied decoupled from Adam (plain
 * SGD at the scheduled learning rate, like AdamW's weight decay). A study over the coefficient
 * (0 = measured only, the control) and p ∈ {1, 2}; the other variants of the study (median
 * center, log M, below-midpoint only) are one `--set` away, e.g. `--set hooks.0.log=true`.
 */
import { definePipeline, study } from "@rekindle/pipeline"
import baseline from "./baseline.ts"

const base = definePipeline({
  ...baseline,
  name: "midpoint-loss",
  hooks: [{ use: "hooks/midpoint-loss", coefficient: 0.01, p: 2, center: "mean", log: false, belowOnly: false }]
})

export default study({
  base,
  grid: { "hooks.0.coefficient": [0, 0.01, 0.1], "hooks.0.p": [1, 2] }
})
