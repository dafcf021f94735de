/**
 * weight-decay: the baseline with AdamW's decoupled weight decay at 0, 0.01 (the baseline) and
 * 0.1. Weight decay shrinks unused neurons, so it changes the magnitude distribution that
 * recycling and pruning read. A study: one run per value.
 */
import { definePipeline, study } from "@rekindle/pipeline"
import baseline from "./baseline.ts"

export default study({
  // the study's report shows each value's magnitude distributions side by side
  base: definePipeline({
    ...baseline,
    name: "weight-decay",
    probes: [{ use: "probe/magnitudes" }, { use: "probe/activations" }],
    log: [{ use: "log/console" }, { use: "log/jsonl" }, { use: "log/report" }]
  }),
  grid: { "optimizer.weightDecay": [0, 0.01, 0.1] }
})
