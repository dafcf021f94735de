/**
 * recycle-current-distribution: recycle-initial, but recycled neurons are drawn from a normal
 * distribution with each parameter's current mean and std (matched to the trained weights)
 * instead of the initial distribution.
 */
import { definePipeline, override } from "@rekindle/pipeline"
import recycleInitial from "./recycle-initial.ts"

export default definePipeline(
  override({ ...recycleInitial, name: "recycle-current-distribution" }, "recycling.0.reinit", { use: "reinit/current-distribution" })
)
