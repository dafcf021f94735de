/**
 * weight-decay: the baseline with AdamW's decoupled weight decay at 0, 0.01 (the baseline) and
 * 0.1. Weight decay shrinks unused neurons, so it changes the magnitude distribution that
 * recycling and pruning read. A study: one run per value.
 */
import { study } from "@rekindle/pipeline"
import baseline from "./baseline.ts"

export default study({
  base: { ...baseline, name: "weight-decay" },
  grid: { "optimizer.weightDecay": [0, 0.01, 0.1] }
})
