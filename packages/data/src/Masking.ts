/**
 * BERT masked-LM corruption of one sequence. Each non-special token becomes a target with
 * probability `prob` (at least one per sequence that has a non-special token); a target's input
 * becomes [MASK] with probability `mask`, a uniformly random non-special token with probability
 * `random`, and stays itself otherwise. All randomness comes from the `Key` given per sequence.
 */
import { Key } from "@rekindle/core"
import type { Masking } from "./DataConfig.ts"
import type { Specials } from "./Tokenizer.ts"

/** Which ids are special (never targets, never drawn as random replacements). */
export const specialIds = (specials: Specials): ReadonlySet<number> =>
  new Set([specials.pad, specials.unk, specials.cls, specials.sep, specials.mask])

/** A random non-special id in `[0, vocabSize)` (rejection sampling; specials are few). */
const randomToken = (u: () => number, vocabSize: number, special: ReadonlySet<number>): number => {
  for (;;) {
    const id = Math.floor(u() * vocabSize)
    if (!special.has(id)) return id
  }
}

/**
 * Masks `row` (a sequence of `seqLen` ids, modified in place) and appends its targets as flat
 * positions (`offset` + index in row) and original ids.
 */
export const maskRow = (
  row: Int32Array,
  offset: number,
  options: {
    readonly masking: Masking
    readonly maskId: number
    readonly vocabSize: number
    readonly special: ReadonlySet<number>
    readonly key: Key.Key
  },
  positions: Array<number>,
  ids: Array<number>
): void => {
  const u = Key.uniform(options.key)
  const { prob, mask, random } = options.masking
  const chosen: Array<number> = []
  let eligible = 0
  for (let i = 0; i < row.length; i++) {
    if (options.special.has(row[i]!)) continue
    eligible++
    if (u() < prob) chosen.push(i)
  }
  if (chosen.length === 0 && eligible > 0) {
    let pick = Math.floor(u() * eligible)
    for (let i = 0; i < row.length; i++) {
      if (options.special.has(row[i]!)) continue
      if (pick-- === 0) {
        chosen.push(i)
        break
      }
    }
  }
  for (const i of chosen) {
    const original = row[i]!
    positions.push(offset + i)
    ids.push(original)
    const r = u()
    if (r < mask) row[i] = options.maskId
    else if (r < mask + random) row[i] = randomToken(u, options.vocabSize, options.special)
  }
}
