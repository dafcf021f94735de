/**
 * pruning-criteria: gradual pruning by three criteria. A cumulative mask on FF hidden units grows
 * linearly from nothing at step 50 to half of each layer at step 300 (updated every 10 steps, never
 * un-pruning); the pruned neurons are the smallest by magnitude, the largest (a control), or
 * random ones. A study: one run per criterion; compare the eval losses with `baseline`.
 */
import { definePipeline, study } from "@rekindle/pipeline"
import baseline from "./baseline.ts"

const base = definePipeline({
  ...baseline,
  name: "pruning-criteria",
  hooks: [{ use: "hooks/pruning", from: 50, until: 300, final: 0.5, every: 10, criterion: { use: "select/magnitude-smallest" } }]
})

export default study({
  base,
  grid: {
    "hooks.0.criterion": [{ use: "select/magnitude-smallest" }, { use: "select/magnitude-largest" }, { use: "select/random" }]
  }
})
