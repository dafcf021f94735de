/**
 * midpoint-loss: the baseline with an auxiliary loss pulling every FF neuron's magnitude towards
 * its layer's mean, coefficient · Σ |M_i − stopgrad(mean M)|^p, applied decoupled from Adam (plain
 * SGD at the scheduled learning rate, like AdamW's weight decay). A study over the coefficient
 * (0 = measured only, the control) and p ∈ {1, 2}; the other variants of the study (median
 * center, log M, below-midpoint only) are one `--set` away, e.g. `--set midpointLoss.log=true`.
 */
import { definePipeline, study } from "@rekindle/pipeline"
import baseline from "./baseline.ts"

const base = definePipeline({
  ...baseline,
  name: "midpoint-loss",
  midpointLoss: { coefficient: 0.01, p: 2, center: "mean", log: false, belowOnly: false }
})

export default study({
  base,
  grid: { "midpointLoss.coefficient": [0, 0.01, 0.1], "midpointLoss.p": [1, 2] }
})
