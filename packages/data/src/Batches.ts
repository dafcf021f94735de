/**
 * Batches from a `Dataset`: a deterministic, resumable training stream and a fixed list of
 * evaluation batches. Everything random is drawn from the key: the window order of each epoch
 * (`split(key, "order")` folded by epoch), the epoch's window offset (`"offset"`), and the
 * masking of each sequence (`"masking"` folded by epoch and index), so a stream resumed from a
 * `StreamPosition` yields exactly the batches the uninterrupted stream would have.
 */
import { Key, UserError } from "@rekindle/core"
import type { Batch } from "@rekindle/core"
import type { Dataset } from "./Dataset.ts"
import type { Masking } from "./DataConfig.ts"
import { maskRow, specialIds } from "./Masking.ts"
import { type Layout, layout, windowCount } from "./Windows.ts"

/** Where a training stream is: the epoch and the index (in that epoch's order) of the next sequence. JSON-serializable. */
export interface StreamPosition {
  readonly epoch: number
  readonly index: number
}

/** An infinite stream of training batches. */
export interface BatchStream {
  /** The next batch; advances the position by `batchSize` sequences (crossing into the next epoch as needed). */
  next(): Batch.Batch
  /** The position of the next sequence (save it with a checkpoint; pass it as `from` to resume). */
  position(): StreamPosition
}

/** Batch shape and objective. */
export interface BatchOptions {
  readonly batchSize: number
  readonly seqLen: number
  readonly objective: "mlm" | "causal"
  readonly masking: Masking
}

/** Builds batches from window start offsets of one stream. */
const batcher = (dataset: Dataset, options: BatchOptions, l: Layout, stream: Int32Array) => {
  const { batchSize, seqLen, masking } = options
  const tk = dataset.tokenizer
  const special = specialIds(tk.specials)
  return (starts: ReadonlyArray<number>, maskKeys: ReadonlyArray<Key.Key>): Batch.Batch => {
    const inputIds = new Int32Array(batchSize * seqLen)
    if (l.objective === "causal") {
      const targetIds = new Int32Array(batchSize * seqLen)
      starts.forEach((s, b) => {
        inputIds.set(stream.subarray(s, s + seqLen), b * seqLen)
        targetIds.set(stream.subarray(s + 1, s + 1 + seqLen), b * seqLen)
      })
      const targetPositions = new Int32Array(batchSize * seqLen)
      for (let i = 0; i < targetPositions.length; i++) targetPositions[i] = i
      return { batchSize, seqLen, inputIds, targetPositions, targetIds }
    }
    const positions: Array<number> = []
    const ids: Array<number> = []
    starts.forEach((s, b) => {
      const row = inputIds.subarray(b * seqLen, (b + 1) * seqLen)
      row[0] = tk.specials.cls
      row.set(stream.subarray(s, s + l.span), 1)
      row[seqLen - 1] = tk.specials.sep
      maskRow(row, b * seqLen, { masking, maskId: tk.specials.mask, vocabSize: tk.vocabSize, special, key: maskKeys[b]! }, positions, ids)
    })
    return { batchSize, seqLen, inputIds, targetPositions: Int32Array.from(positions), targetIds: Int32Array.from(ids) }
  }
}

const checkBatchSize = (batchSize: number): void => {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new UserError({ message: `train.batchSize: expected a positive integer, got ${batchSize}` })
  }
}

const tooShort = (which: string, field: string, length: number, l: Layout): UserError =>
  new UserError({
    message: `${field}: the ${which} stream has ${length} tokens, fewer than one ${l.objective} sequence ` +
      `(${l.span} tokens for seqLen ${l.seqLen}); use a bigger corpus or a shorter seqLen`
  })

/**
 * A deterministic infinite stream of training batches: every epoch visits all windows once, in
 * an order shuffled by the key. `from` resumes at a saved position. Throws a `UserError` when
 * the stream is shorter than one sequence or `from` is out of range.
 */
export const trainStream = (
  dataset: Dataset,
  options: BatchOptions & { readonly key: Key.Key; readonly from?: StreamPosition }
): BatchStream => {
  checkBatchSize(options.batchSize)
  const l = layout(options.objective, options.seqLen)
  const stream = dataset.train
  if (windowCount(stream.length, l, 0) === 0) throw tooShort("training", "data.corpus", stream.length, l)
  const orderKey = Key.split(options.key, "order")
  const offsetKey = Key.split(options.key, "offset")
  const maskingKey = Key.split(options.key, "masking")

  /** The windows of one epoch: offset and shuffled order. */
  const plan = (epoch: number) => {
    const drawn = Math.floor(Key.uniform(Key.fold(offsetKey, epoch))() * l.stride)
    const offset = windowCount(stream.length, l, drawn) > 0 ? drawn : 0
    const count = windowCount(stream.length, l, offset)
    return { epoch, offset, order: Key.permutation(Key.fold(orderKey, epoch), count) }
  }

  let epoch = options.from?.epoch ?? 0
  let index = options.from?.index ?? 0
  if (!Number.isInteger(epoch) || epoch < 0) throw new UserError({ message: `resume position: bad epoch ${epoch}` })
  let current = plan(epoch)
  if (!Number.isInteger(index) || index < 0 || index >= current.order.length) {
    throw new UserError({
      message: `resume position: index ${index} is outside epoch ${epoch}'s ${current.order.length} sequences`
    })
  }
  const build = batcher(dataset, options, l, stream)
  return {
    next: () => {
      const starts: Array<number> = []
      const keys: Array<Key.Key> = []
      for (let b = 0; b < options.batchSize; b++) {
        starts.push(current.offset + current.order[index]! * l.stride)
        keys.push(Key.fold(Key.fold(maskingKey, epoch), index))
        index++
        if (index === current.order.length) {
          epoch++
          index = 0
          current = plan(epoch)
        }
      }
      return build(starts, keys)
    },
    position: () => ({ epoch, index })
  }
}

/**
 * A fixed list of `count` evaluation batches from the eval stream (windows at offset 0, in an
 * order shuffled by the key; the same list on every call with the same key). When `count *
 * batchSize` exceeds the number of windows, windows repeat (with fresh masks for MLM).
 */
export const evalBatches = (
  dataset: Dataset,
  options: BatchOptions & { readonly key: Key.Key; readonly count: number }
): Array<Batch.Batch> => {
  checkBatchSize(options.batchSize)
  const l = layout(options.objective, options.seqLen)
  const stream = dataset.eval
  const windows = windowCount(stream.length, l, 0)
  if (windows === 0) throw tooShort("evaluation", "data.evalFraction", stream.length, l)
  const order = Key.permutation(Key.split(options.key, "order"), windows)
  const maskingKey = Key.split(options.key, "masking")
  const build = batcher(dataset, options, l, stream)
  const batches: Array<Batch.Batch> = []
  for (let i = 0; i < options.count; i++) {
    const starts: Array<number> = []
    const keys: Array<Key.Key> = []
    for (let b = 0; b < options.batchSize; b++) {
      const j = i * options.batchSize + b
      starts.push(order[j % windows]! * l.stride)
      keys.push(Key.fold(maskingKey, j))
    }
    batches.push(build(starts, keys))
  }
  return batches
}
