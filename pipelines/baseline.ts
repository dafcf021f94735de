/**
 * Baseline: the reference study's BERT pre-training recipe, scaled down to fit a laptop (4 layers,
 * d 256, 4 heads, FF 1024, sequences of 128; AdamW with linear warm-up and decay), without
 * recycling. Recycling variants are this pipeline plus a stage (`withStage`).
 */
import { definePipeline } from "@rekindle/pipeline"

export default definePipeline({
  name: "baseline",
  seed: 1,
  data: {
    corpus: { kind: "brown" },
    tokenizer: { kind: "wordpiece", vocabSize: 8192, lowercase: true },
    objective: "mlm",
    masking: { prob: 0.15, mask: 0.8, random: 0.1 },
    evalFraction: 0.05
  },
  model: { dModel: 256, heads: 4, layers: 4, dFF: 1024, seqLen: 128 },
  optimizer: {
    use: "optim/adamw",
    lr: 5e-4,
    betas: [0.9, 0.999],
    eps: 1e-6,
    weightDecay: 0.01,
    schedule: { kind: "warmup-linear", warmupSteps: 200 }
  },
  train: { steps: 3000, batchSize: 32, evalEvery: 250, evalBatches: 8, logEvery: 25 }
})
