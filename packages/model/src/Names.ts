/**
 * Parameter names and shapes. Every parameter of the transformer has a stable dotted name
 * (`layers.0.ff.win`), used by optimizers, reinitializers, checkpoints and events alike; this
 * module is the single place that spells them and knows their shapes.
 */
import type { Topology } from "@rekindle/core"
import { isGated, type ModelConfig } from "./ModelConfig.ts"

/** Token embedding `[vocabSize, dModel]`. */
export const tokenEmbedding = "embed.token"
/** Learned position embedding `[seqLen, dModel]`. */
export const positionEmbedding = "embed.position"
/** Output head weight `[dModel, vocabSize]` (untied from the token embedding). */
export const headWeight = "head.w"
/** Output head bias `[vocabSize]`. */
export const headBias = "head.b"
/** Final LayerNorm gain `[dModel]` (present when `finalLayerNorm`). */
export const finalGain = "final.ln.gain"
/** Final LayerNorm bias `[dModel]` (present when `finalLayerNorm`). */
export const finalBias = "final.ln.bias"

/** The names of one block's parameters. FF names exist even when dFF = 0 (then unused). */
export const block = (l: number) => {
  const p = `layers.${l}`
  return {
    ln1Gain: `${p}.ln1.gain`,
    ln1Bias: `${p}.ln1.bias`,
    wq: `${p}.attn.wq`,
    wk: `${p}.attn.wk`,
    wv: `${p}.attn.wv`,
    wo: `${p}.attn.wo`,
    bq: `${p}.attn.bq`,
    bk: `${p}.attn.bk`,
    bv: `${p}.attn.bv`,
    bo: `${p}.attn.bo`,
    ln2Gain: `${p}.ln2.gain`,
    ln2Bias: `${p}.ln2.bias`,
    win: `${p}.ff.win`,
    wout: `${p}.ff.wout`,
    bin: `${p}.ff.bin`,
    bout: `${p}.ff.bout`,
    /** GLU gate `[dModel, dFF]` (present when the activation is `swiglu`/`geglu`). */
    wgate: `${p}.ff.wgate`,
    /** GLU gate bias `[dFF]` (GLU with ffBias). */
    bgate: `${p}.ff.bgate`
  } as const
}

/** Names of one block's parameters (see `block`). */
export type BlockNames = ReturnType<typeof block>

/**
 * Every parameter's shape, in a fixed order (embeddings, blocks in order, final LayerNorm, head).
 * With `dFF = 0` a block has no FF sublayer and no `ln2`.
 */
export const shapes = (c: ModelConfig): Record<string, Array<number>> => {
  const d = c.dModel
  const out: Record<string, Array<number>> = {
    [tokenEmbedding]: [c.vocabSize, d],
    [positionEmbedding]: [c.seqLen, d]
  }
  for (let l = 0; l < c.layers; l++) {
    const n = block(l)
    out[n.ln1Gain] = [d]
    out[n.ln1Bias] = [d]
    for (const w of [n.wq, n.wk, n.wv, n.wo]) out[w] = [d, d]
    for (const b of [n.bq, n.bk, n.bv, n.bo]) out[b] = [d]
    if (c.dFF > 0) {
      out[n.ln2Gain] = [d]
      out[n.ln2Bias] = [d]
      out[n.win] = [d, c.dFF]
      out[n.wout] = [c.dFF, d]
      if (isGated(c)) out[n.wgate] = [d, c.dFF]
      if (c.ffBias) {
        out[n.bin] = [c.dFF]
        if (isGated(c)) out[n.bgate] = [c.dFF]
        out[n.bout] = [d]
      }
    }
  }
  if (c.finalLayerNorm) {
    out[finalGain] = [d]
    out[finalBias] = [d]
  }
  out[headWeight] = [d, c.vocabSize]
  out[headBias] = [c.vocabSize]
  return out
}

/**
 * The FF neurons of the model: per block, W_in columns, W_out rows, (with ffBias) hidden-bias
 * entries and (GLU) W_gate columns and gate-bias entries.
 */
export const topology = (c: ModelConfig): Topology.Topology => ({
  layers: c.dFF === 0
    ? []
    : Array.from({ length: c.layers }, (_, l) => {
      const n = block(l)
      return {
        layer: l,
        dModel: c.dModel,
        dFF: c.dFF,
        win: n.win,
        wout: n.wout,
        ...(isGated(c) ? { gate: n.wgate } : {}),
        slices: [
          { param: n.win, axis: 1, role: "in" },
          { param: n.wout, axis: 0, role: "out" },
          ...(c.ffBias ? [{ param: n.bin, axis: 0, role: "bias" } as const] : []),
          ...(isGated(c) ? [{ param: n.wgate, axis: 1, role: "gate" } as const] : []),
          ...(isGated(c) && c.ffBias ? [{ param: n.bgate, axis: 0, role: "gate-bias" } as const] : [])
        ]
      }
    })
})
