/**
 * @rekindle/plugin-probe: probes that measure the model at a cadence without changing it
 * (namespace `probe`): `probe/magnitudes`, `probe/recycle-counts`, `probe/activations` (their
 * statistics, histograms and Pearson's r, are core's `Stats`).
 */
import { Plugin } from "@rekindle/core"
import { activationsPart, magnitudesPart, recycleCountsPart } from "./Probes.ts"

export * as Probes from "./Probes.ts"

/** The probe plugin (namespace `probe`). */
export const probe = Plugin.make({
  meta: { name: "@rekindle/plugin-probe", version: "0.1.0", namespace: "probe", core: "^0.1.0" },
  probes: {
    magnitudes: magnitudesPart,
    "recycle-counts": recycleCountsPart,
    activations: activationsPart
  }
})
