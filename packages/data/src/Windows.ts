/**
 * How packed token streams are cut into sequences.
 *
 * - Masked LM (BERT-like, "full sentences" packing as in RoBERTa): a sequence is
 *   `[CLS] + w tokens of the stream + [SEP]` with `w = seqLen - 2`. Windows are contiguous and
 *   do not overlap; they cross document boundaries, where the stream's own [SEP] stands.
 * - Causal LM: a window is `seqLen + 1` tokens; the inputs are its first `seqLen`, the targets
 *   its last `seqLen` (each position predicts the next token). Windows step by `seqLen`, so
 *   every token of the stream is a target exactly once per epoch.
 *
 * Window `k` starts at `offset + k * stride`; the training stream draws a fresh offset in
 * `[0, stride)` every epoch, so sequence boundaries move between epochs.
 */
import { UserError } from "@rekindle/core"

/** Geometry of windows for an objective and sequence length. */
export interface Layout {
  readonly objective: "mlm" | "causal"
  readonly seqLen: number
  /** Stream tokens read per window. */
  readonly span: number
  /** Distance between window starts. */
  readonly stride: number
}

/** The window geometry; fails for sequence lengths the objective cannot use. */
export const layout = (objective: "mlm" | "causal", seqLen: number): Layout => {
  const minimum = objective === "mlm" ? 3 : 1
  if (!Number.isInteger(seqLen) || seqLen < minimum) {
    throw new UserError({ message: `model.seqLen: expected an integer >= ${minimum} for ${objective}, got ${seqLen}` })
  }
  return objective === "mlm"
    ? { objective, seqLen, span: seqLen - 2, stride: seqLen - 2 }
    : { objective, seqLen, span: seqLen + 1, stride: seqLen }
}

/** Number of whole windows in a stream of `length` tokens when starting at `offset`. */
export const windowCount = (length: number, l: Layout, offset: number): number =>
  length - offset >= l.span ? Math.floor((length - offset - l.span) / l.stride) + 1 : 0
