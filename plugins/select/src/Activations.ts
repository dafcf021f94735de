/** Access to the activation statistics a criterion asked for, with a clear error when missing. */
import { type ActivationStats, Bug, type LayerSignals } from "@rekindle/core"

/** The layer's activation statistics; throws when the host did not measure them. */
export const activationsOf = (layer: LayerSignals, criterion: string): ActivationStats => {
  if (layer.activations === undefined) {
    throw new Bug(`${criterion}: layer ${layer.layer} has no activation statistics (the host must measure them on a probe batch)`)
  }
  return layer.activations
}
