/**
 * Quickstart: a small BERT (2 layers, d 128) trained with masked-LM on the Brown corpus, with
 * one recycling stage that reinitializes the 10% smallest FF neurons of each layer every 100
 * steps. Finishes in a few minutes on 2 cores. Run it with `npm start`. Besides the console
 * progress and events.jsonl every run has, it writes report.html and a TensorBoard event file
 * into its run folder (both cheap: a few ms per flush).
 */
import { definePipeline } from "@rekindle/pipeline"

export default definePipeline({
  name: "quickstart",
  seed: 1,
  data: {
    corpus: { kind: "brown" },
    tokenizer: { kind: "wordpiece", vocabSize: 4096, lowercase: true },
    objective: "mlm"
  },
  model: { dModel: 128, heads: 4, layers: 2, dFF: 512, seqLen: 64 },
  optimizer: {
    use: "optim/adamw",
    lr: 1e-3,
    weightDecay: 0.01,
    schedule: { kind: "warmup-cosine", warmupSteps: 40, minLrFraction: 0.1 }
  },
  train: { steps: 400, batchSize: 32, evalEvery: 100, evalBatches: 4, logEvery: 10 },
  recycling: [{
    schedule: { every: 100, from: 100, until: 300 },
    select: { use: "select/magnitude-smallest", fraction: 0.1 },
    reinit: { use: "reinit/initial" },
    optimizerState: "zero-moments"
  }],
  log: [{ use: "log/report" }, { use: "log/tensorboard" }]
})
