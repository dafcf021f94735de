/**
 * dff-sweep: the baseline at FF widths 0 (no FF sublayer at all: attention only), 128, 256, 512
 * (the baseline) and 1024. A study: one run per width.
 */
import { study } from "@rekindle/pipeline"
import baseline from "./baseline.ts"

export default study({
  base: { ...baseline, name: "dff-sweep" },
  grid: { "model.dFF": [0, 128, 256, 512, 1024] }
})
