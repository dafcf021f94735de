/**
 * recycle-immunity: recycle-initial with immunity. A recycled neuron cannot be chosen again for
 * K recycling rounds (K = 3 and K = 7), so recycling cannot keep hitting the same freshly
 * reinitialized neurons. Recycling runs every 25 steps here (steps 25..300, twelve rounds), so
 * K = 7 spans most of the run. A study: one run per K.
 */
import { override, study } from "@rekindle/pipeline"
import recycleInitial from "./recycle-initial.ts"

const base = override({ ...recycleInitial, name: "recycle-immunity" }, "recycling.0.schedule", { every: 25, from: 25, until: 300 })

export default study({
  base,
  grid: { "recycling.0.immunity": [3, 7] }
})
