/**
 * The example criterion in a pipeline: a quickstart-sized BERT on Brown whose recycling stage
 * chooses with `lab/contribution`, while the built-in magnitude and dormant criteria choose in the
 * shadow (recorded in each Recycle event as their Jaccard overlap with the real choice).
 * `npx rekindle validate pipeline.ts`, `npx rekindle run pipeline.ts --set train.steps=20`.
 */
import { lab } from "@rekindle-examples/criterion-contribution"
import { definePipeline } from "@rekindle/pipeline"

export default definePipeline.with([lab])({
  name: "contribution",
  model: { dModel: 128, heads: 4, layers: 2, dFF: 512, seqLen: 64 },
  optimizer: { use: "optim/adamw", lr: 1e-3, weightDecay: 0.01 },
  train: { steps: 400, batchSize: 32, evalEvery: 100, evalBatches: 4, logEvery: 10 },
  recycling: [{
    schedule: { every: 100, from: 100, until: 300 },
    select: { use: "lab/contribution", fraction: 0.1 },
    reinit: { use: "reinit/initial" },
    shadow: [{ use: "select/magnitude-smallest" }, { use: "select/dormant", tau: 0.1 }]
  }]
})
