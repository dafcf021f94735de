import { layer } from "@effect/vitest"
import { NodeServices } from "@effect/platform-node"
import { Key } from "@rekindle/core"
import { Effect } from "effect"
import { FileSystem } from "effect/FileSystem"
import { Path } from "effect/Path"
import { expect } from "vitest"
import { evalBatches, trainStream } from "../src/Batches.ts"
import { load } from "../src/Dataset.ts"
import type { DataConfig } from "../src/DataConfig.ts"
import { evalCount } from "../src/Split.ts"
import { tempDir } from "./fixtures.ts"

const masking = { prob: 0.15, mask: 0.8, random: 0.1 }
const filler = "the quick brown fox jumps over the lazy dog while the cat sleeps on a warm mat"
/** Document i: filler text plus a marker word found in no other document. */
const marker = (i: number) => `zq${String.fromCharCode(97 + (i % 26))}${String.fromCharCode(97 + Math.floor(i / 26))}x`
const docText = (i: number) => `${filler} ${marker(i)} ${marker(i)} and ${filler}.`

const textConfig = (path: string, evalFraction = 0.2): DataConfig => ({
  corpus: { kind: "text", path },
  tokenizer: { kind: "wordpiece", vocabSize: 400, lowercase: true },
  objective: "mlm",
  masking,
  evalFraction
})

const contains = (stream: Int32Array, ids: Int32Array): boolean => {
  outer: for (let s = 0; s + ids.length <= stream.length; s++) {
    for (let i = 0; i < ids.length; i++) if (stream[s + i] !== ids[i]) continue outer
    return true
  }
  return false
}

layer(NodeServices.layer)("Data.load", (it) => {
  it.effect("splits by document before tokenization: no eval document's text is in the train stream", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem
      const path = yield* Path
      const dir = yield* tempDir
      const file = path.join(dir, "corpus.txt")
      yield* fs.writeFileString(file, Array.from({ length: 50 }, (_, i) => docText(i)).join("\n\n"))
      const d = yield* load(textConfig(file), { cacheDir: path.join(dir, "cache"), key: Key.make(4) })
      expect(d.documents).toEqual({ train: 40, eval: 10 })
      expect(evalCount(50, 0.2)).toBe(10)
      const { sep } = d.tokenizer.specials
      expect(d.train.filter((t) => t === sep)).toHaveLength(40)
      expect(d.eval.filter((t) => t === sep)).toHaveLength(10)
      let inTrain = 0, inEval = 0
      for (let i = 0; i < 50; i++) {
        const ids = d.tokenizer.encode(marker(i))
        const t = contains(d.train, ids), e = contains(d.eval, ids)
        expect(t !== e).toBe(true) // each document is in exactly one half
        if (t) inTrain++
        if (e) inEval++
      }
      expect([inTrain, inEval]).toEqual([40, 10])
      // another key holds out other documents
      const other = yield* load(textConfig(file), { cacheDir: path.join(dir, "cache"), key: Key.make(5) })
      expect(Array.from(other.eval)).not.toEqual(Array.from(d.eval))
      // the same key reproduces the split, tokenizer and streams from the cache
      const again = yield* load(textConfig(file), { cacheDir: path.join(dir, "cache"), key: Key.make(4) })
      expect(again.fingerprint).toBe(d.fingerprint)
      expect(Array.from(again.train)).toEqual(Array.from(d.train))
      expect(Array.from(again.eval)).toEqual(Array.from(d.eval))
      const tokenFiles = yield* fs.readDirectory(path.join(dir, "cache", "tokens"))
      expect(tokenFiles.filter((f) => f.endsWith(".i32"))).toHaveLength(2)
    }))

  it.effect("fails with UserErrors for a missing corpus, a too-small vocabulary, or too few documents", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem
      const path = yield* Path
      const dir = yield* tempDir
      const cacheDir = path.join(dir, "cache")
      const missing = yield* Effect.flip(load(textConfig(path.join(dir, "none.txt")), { cacheDir, key: Key.make(0) }))
      expect(missing.message).toMatch(/^data\.corpus\.path: no such file or folder/)
      const file = path.join(dir, "c.txt")
      yield* fs.writeFileString(file, "one doc\n\nanother doc\n")
      const small = yield* Effect.flip(load(
        { ...textConfig(file), tokenizer: { kind: "wordpiece", vocabSize: 8, lowercase: true } },
        { cacheDir, key: Key.make(0) }
      ))
      expect(small.message).toMatch(/^data\.tokenizer\.vocabSize: /)
      yield* fs.writeFileString(file, "just one document\n")
      const single = yield* Effect.flip(load(textConfig(file), { cacheDir, key: Key.make(0) }))
      expect(single.message).toMatch(/^data\.evalFraction: the corpus has 1 document/)
    }))

  it.effect("full Brown: 500 documents, 8192-entry vocabulary, batches from both halves", () =>
    Effect.gen(function*() {
      const path = yield* Path
      const dir = yield* tempDir
      const config: DataConfig = {
        corpus: { kind: "brown" },
        tokenizer: { kind: "wordpiece", vocabSize: 8192, lowercase: true },
        objective: "mlm",
        masking,
        evalFraction: 0.05
      }
      const d = yield* load(config, { cacheDir: path.join(dir, "cache"), key: Key.make(0) })
      expect(d.documents).toEqual({ train: 475, eval: 25 })
      expect(d.tokenizer.vocabSize).toBe(8192)
      expect(d.train.length).toBeGreaterThan(1_200_000)
      expect(d.eval.length).toBeGreaterThan(40_000)
      const unk = d.train.filter((t) => t === d.tokenizer.specials.unk).length
      expect(unk / d.train.length).toBeLessThan(0.001)
      const b = trainStream(d, { batchSize: 16, seqLen: 128, objective: "mlm", masking, key: Key.make(1) }).next()
      expect(b.inputIds).toHaveLength(16 * 128)
      expect(evalBatches(d, { batchSize: 16, seqLen: 128, objective: "causal", masking, key: Key.make(2), count: 4 })).toHaveLength(4)
      expect(d.tokenizer.decode(d.tokenizer.encode("The Fulton County Grand Jury said Friday"))).toBe(
        "the fulton county grand jury said friday"
      )
    }), { timeout: 60_000 })
})
