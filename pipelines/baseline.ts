/**
 * Baseline: the reference study's BERT pre-training recipe (masked-LM on Brown, AdamW with linear
 * warm-up and linear decay, decoupled weight decay 0.01), scaled down so one run takes a few
 * minutes on 2 cores: 2 layers, d 128, 4 heads, FF 512, sequences of 64, batches of 32, 400
 * steps. No recycling. Every other preset is this pipeline plus one change (a recycling stage,
 * pruning, retraining, the midpoint loss, or a swept value), so their losses compare directly.
 */
import { definePipeline } from "@rekindle/pipeline"

export default definePipeline({
  name: "baseline",
  seed: 1,
  data: {
    corpus: { kind: "brown" },
    tokenizer: { kind: "wordpiece", vocabSize: 4096, lowercase: true },
    objective: "mlm",
    masking: { prob: 0.15, mask: 0.8, random: 0.1 },
    evalFraction: 0.05
  },
  model: { dModel: 128, heads: 4, layers: 2, dFF: 512, seqLen: 64 },
  optimizer: {
    use: "optim/adamw",
    lr: 1e-3,
    betas: [0.9, 0.999],
    eps: 1e-6,
    weightDecay: 0.01,
    schedule: { kind: "warmup-linear", warmupSteps: 40 }
  },
  train: { steps: 400, batchSize: 32, evalEvery: 100, evalBatches: 4, logEvery: 10 }
})
