import { criterionConformance } from "@rekindle/testing"
import { dormant, firingRate, select } from "../src/index.ts"

for (const [id, part] of Object.entries(select.criteria)) criterionConformance(`select/${id}`, part)

criterionConformance("select/dormant (uncapped, tau 0.5)", select.criteria.dormant, { options: { tau: 0.5, cap: false }, capped: false })
criterionConformance("select/firing-rate (uncapped, threshold 0.3)", select.criteria["firing-rate"], {
  options: { threshold: 0.3, cap: false },
  capped: false
})
criterionConformance("select/utility (decay 0.5, one observation)", select.criteria.utility, { options: { decay: 0.5 }, observations: 1 })
criterionConformance("dormant() factory", () => dormant({ tau: 0, cap: true }))
criterionConformance("firingRate() factory", () => firingRate({ threshold: 1, cap: true }))
