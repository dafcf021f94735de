/**
 * Every built-in hook passes the kit's hook conformance suite, each in a setting where its state
 * matters across the checkpoint: pruning between two mask updates, retraining inside its window
 * (and a retraining that ends the run), the midpoint loss and the L1 penalty on their decoupled
 * updates. The criteria and the run's optimizer are the built-in ones (select, optim).
 */
import { optim } from "@rekindle/plugin-optim"
import { select } from "@rekindle/plugin-select"
import { hookConformance } from "@rekindle/testing"
import { hooks } from "../src/index.ts"

const plugins = [select, optim]
const optimizer = { use: "optim/adamw", lr: 1e-2, weightDecay: 0.1 }

hookConformance("hooks/pruning", hooks.hooks.pruning, { options: { from: 2, until: 12, final: 0.5, every: 4 }, plugins, optimizer, steps: 16, interruptAt: 9 })
hookConformance("hooks/pruning (random criterion)", hooks.hooks.pruning, {
  options: { from: 1, until: 6, final: 0.25, every: 2, criterion: { use: "select/random" } }, plugins, optimizer, steps: 10, configs: [{ ffBias: true }]
})
hookConformance("hooks/retrain", hooks.hooks.retrain, { options: { at: 6, steps: 5, subset: "random", fraction: 0.25, warmup: 2 }, plugins, optimizer, steps: 16, interruptAt: 8 })
hookConformance("hooks/retrain (then stop)", hooks.hooks.retrain, {
  options: { at: 4, steps: 4, subset: "smallest", then: "stop" }, plugins, optimizer, steps: 12, interruptAt: 6, configs: [{ ffBias: true }]
})
hookConformance("hooks/midpoint-loss", hooks.hooks["midpoint-loss"], { options: { coefficient: 0.1, center: "median", log: true }, plugins, optimizer })
hookConformance("hooks/l1-ff", hooks.hooks["l1-ff"], { options: { coefficient: 0.01 } })
