/**
 * recycle-initial: the reference study's main recycling experiment. Every P = 50 steps (from
 * step 50 to step 300, six events, then 100 steps to recover) the 10% of each layer's FF neurons
 * with the smallest magnitude ‖W_in[:,i]‖·‖W_out[i,:]‖ are reinitialized from the model's init
 * distribution, and their Adam moments zeroed. A dormant-neuron criterion shadows the choice
 * (its overlap is recorded, it does not act). Compare with `baseline`.
 */
import { definePipeline } from "@rekindle/pipeline"
import baseline from "./baseline.ts"

export default definePipeline({
  ...baseline,
  name: "recycle-initial",
  recycling: [{
    schedule: { every: 50, from: 50, until: 300 },
    select: { use: "select/magnitude-smallest", fraction: 0.1 },
    reinit: { use: "reinit/initial" },
    optimizerState: "zero-moments",
    shadow: [{ use: "select/dormant", tau: 0.1 }]
  }]
})
