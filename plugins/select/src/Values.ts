/** Access to the signal-plugin values a criterion asked for, with a clear error when missing. */
import { Bug, type LayerSignals } from "@rekindle/core"

/** The layer's value `name` (declared in the criterion's `signals`); throws when the host did not provide it. */
export const valuesOf = (layer: LayerSignals, name: string, criterion: string): Float32Array => {
  const v = layer.values?.[name]
  if (v === undefined) {
    throw new Bug(`${criterion}: layer ${layer.layer} has no signal "${name}" (the host computes the signals a criterion declares in its \`signals\`)`)
  }
  return v
}
