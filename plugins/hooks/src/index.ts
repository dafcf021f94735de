/**
 * @rekindle/plugin-hooks: step hooks (namespace `hooks`), interventions that run around every
 * optimizer step: `hooks/pruning` (gradual pruning), `hooks/retrain` (retraining a subset of FF
 * neurons), `hooks/midpoint-loss` (an auxiliary loss on FF magnitudes) and `hooks/l1-ff` (an L1
 * penalty on the FF weights, the one-file example). Each part is one file: an options Schema and
 * a `make` returning the hook (with its own checkpoint state where it keeps any).
 */
import { Plugin } from "@rekindle/core"
import { part as l1 } from "./L1Penalty.ts"
import { part as midpointLoss } from "./MidpointLoss.ts"
import { part as pruning } from "./Pruning.ts"
import { part as retrain } from "./Retrain.ts"

export * as L1Penalty from "./L1Penalty.ts"
export * as MidpointLoss from "./MidpointLoss.ts"
export * as Pruning from "./Pruning.ts"
export * as Retrain from "./Retrain.ts"

/** The hooks plugin (namespace `hooks`). */
export const hooks = Plugin.make({
  meta: { name: "@rekindle/plugin-hooks", version: "0.1.0", namespace: "hooks", core: "^0.1.0" },
  hooks: { pruning, retrain, "midpoint-loss": midpointLoss, "l1-ff": l1 }
})
