/**
 * The new criterion against the classic one, acting: the same pipeline with either criterion
 * choosing, three seeds each. `npx rekindle run study.ts`, then `npx rekindle compare runs/contribution-vs-magnitude`.
 */
import { study } from "@rekindle/pipeline"
import contribution from "./pipeline.ts"

export default study({
  base: contribution,
  name: "contribution-vs-magnitude",
  grid: {
    "recycling.0.select": [
      { use: "lab/contribution", fraction: 0.1 },
      { use: "select/magnitude-smallest", fraction: 0.1 }
    ]
  },
  seeds: [1, 2, 3]
})
