/**
 * recycle-copy: recycle-initial, but each recycled neuron becomes a copy of a random surviving
 * neuron of its layer plus a little noise (5% of the parameter's std).
 */
import { definePipeline, override } from "@rekindle/pipeline"
import recycleInitial from "./recycle-initial.ts"

export default definePipeline(
  override({ ...recycleInitial, name: "recycle-copy" }, "recycling.0.reinit", { use: "reinit/copy", noise: 0.05 })
)
