/**
 * recycle-smooth: recycle-initial, but fresh weights are blended in smoothly: a recycled neuron's
 * output is (1 − α)·old + α·new with α rising from 0 to 1 over 25 steps, so the network never
 * loses the old neuron's contribution abruptly. A blending neuron cannot be chosen again.
 */
import { definePipeline, override } from "@rekindle/pipeline"
import recycleInitial from "./recycle-initial.ts"

export default definePipeline(
  override({ ...recycleInitial, name: "recycle-smooth" }, "recycling.0.reinit", { use: "reinit/smooth", steps: 25 })
)
