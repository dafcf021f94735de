import { optimizerConformance } from "@rekindle/testing"
import { adam, adamw, sgd } from "../src/index.ts"

optimizerConformance("sgd", () => sgd({ lr: 0.05 }))
optimizerConformance("sgd momentum nesterov, clipped", () => sgd({ lr: 0.05, momentum: 0.9, nesterov: true, clipNorm: 1 }))
optimizerConformance("adam", () => adam({ lr: 0.05 }))
optimizerConformance("adamw warmup-cosine", () =>
  adamw({ lr: 0.05, weightDecay: 0.1, schedule: { kind: "warmup-cosine", warmupSteps: 5 }, totalSteps: 60 }))
