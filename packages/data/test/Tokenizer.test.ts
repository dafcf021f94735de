import { layer } from "@effect/vitest"
import { NodeServices } from "@effect/platform-node"
import { Effect } from "effect"
import { FileSystem } from "effect/FileSystem"
import { Path } from "effect/Path"
import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import { expect } from "vitest"
import { hashStrings } from "../src/Cache.ts"
import { brown } from "../src/Corpus.ts"
import { specialTokens } from "../src/Tokenizer.ts"
import { fromFile, fromTokenizerJson } from "../src/TokenizerFiles.ts"
import { trained, truncateVocab } from "../src/TokenizerTraining.ts"
import { smallTokenizer, tempDir, vocabTxt } from "./fixtures.ts"

const text = "The jury said it did find that many of Georgia's registration and election laws are outmoded."

layer(NodeServices.layer)("tokenizer", (it) => {
  it.effect("a cold cache says it is training the vocabulary (stderr) and leaves stdout clean (no stray blank lines)", () =>
    Effect.gen(function*() {
      const cacheDir = yield* tempDir
      const script = fileURLToPath(new URL("./scripts/train-cold.ts", import.meta.url))
      const r = spawnSync(process.execPath, ["--import", "tsx", script, cacheDir], { encoding: "utf8" })
      expect(r.status).toBe(0)
      expect(r.stdout).toBe("")
      expect(r.stderr).toMatch(/^preparing data: training the WordPiece vocabulary \(600 entries, \d+ documents; cached in .+\)…\n$/)
    }), 60_000)

  it.effect("trains a WordPiece vocabulary of exactly vocabSize with specials first, and caches it", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem
      const path = yield* Path
      const cacheDir = yield* tempDir
      const docs = yield* brown(12)
      const hash = hashStrings(docs)
      const tk = yield* trained(docs, hash, { vocabSize: 600, lowercase: true }, cacheDir)
      expect(tk.vocabSize).toBe(600)
      expect(tk.specials).toEqual({ pad: 0, unk: 1, cls: 2, sep: 3, mask: 4 })
      expect(Array.from(tk.encode("[PAD] [UNK] [CLS] [SEP] [MASK]"))).not.toContain(0) // specials are not text
      const ids = tk.encode(text)
      expect(ids.length).toBeGreaterThan(10)
      for (const id of ids) expect(id >= 5 && id < 600).toBe(true)
      expect(tk.decode(ids)).toBe(text.toLowerCase().replace("'", " ' ").replace(/\s+/g, " ").replace(" .", "."))
      // the synchronous encoder agrees with the native one
      const sample = [text, docs[3]!.slice(0, 3000), "Ünïcödé café naïve 12,345 ½ — résumé\tTAB"]
      const native = yield* Effect.promise(() => tk.encodeMany(sample))
      sample.forEach((s, i) => expect(Array.from(tk.encode(s))).toEqual(Array.from(native[i]!)))
      // cache: one tokenizer.json, reused without training
      const files = yield* fs.readDirectory(path.join(cacheDir, "tokenizers"))
      expect(files.filter((f) => f.endsWith(".json"))).toHaveLength(1)
      expect(files.filter((f) => f.includes(".tmp-"))).toHaveLength(0)
      const file = path.join(cacheDir, "tokenizers", files[0]!)
      const before = (yield* fs.stat(file)).mtime
      const again = yield* trained(docs, hash, { vocabSize: 600, lowercase: true }, cacheDir)
      expect(again.fingerprint).toBe(tk.fingerprint)
      expect((yield* fs.stat(file)).mtime).toEqual(before)
      expect(Array.from(again.encode(text))).toEqual(Array.from(ids))
      // other settings -> another entry
      const cased = yield* trained(docs, hash, { vocabSize: 600, lowercase: false }, cacheDir)
      expect(cased.fingerprint).not.toBe(tk.fingerprint)
      expect(cased.decode(cased.encode("Jury"))).toBe("Jury")
      expect(tk.decode(tk.encode("Jury"))).toBe("jury")
    }))

  it.effect("fills with [unusedK] when the corpus is too small for the requested size", () =>
    Effect.gen(function*() {
      const cacheDir = yield* tempDir
      const docs = ["a b c ab abc", "ba cab"]
      const tk = yield* trained(docs, hashStrings(docs), { vocabSize: 40, lowercase: true }, cacheDir)
      expect(tk.vocabSize).toBe(40)
      expect(tk.decode([39])).toMatch(/^\[unused\d+\]$/)
      expect(Array.from(tk.encode("cab zebra"))).toContain(tk.specials.unk)
    }))

  it("truncateVocab keeps specials, then the first learned entries by id, numbered in sorted order", () => {
    const v = truncateVocab({ b: 0, a: 1, "[UNK]": 2, "##a": 3, ab: 4 }, 8)
    expect(v).toEqual({ "[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "[MASK]": 4, "##a": 5, a: 6, b: 7 })
    expect(truncateVocab({ "##a": 7, a: 3, b: 5 }, 9)).toEqual(
      { "[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "[MASK]": 4, "##a": 5, a: 6, b: 7, "[unused0]": 8 }
    )
    expect(Object.keys(v).slice(0, 5)).toEqual([...specialTokens])
  })

  it.effect("a vocabulary too small is a UserError naming data.tokenizer.vocabSize", () =>
    Effect.gen(function*() {
      const cacheDir = yield* tempDir
      for (const vocabSize of [5, 15]) {
        const e = yield* Effect.flip(trained(["some text"], "h", { vocabSize, lowercase: true }, cacheDir))
        expect(e._tag).toBe("UserError")
        expect(e.message).toMatch(/^data\.tokenizer\.vocabSize: expected an integer of at least 16/)
      }
    }))

  it.effect("loads vocab.txt (bert-base-uncased style) and tokenizer.json from disk", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem
      const path = yield* Path
      const dir = yield* tempDir
      const vocabFile = path.join(dir, "vocab.txt")
      yield* fs.writeFileString(vocabFile, vocabTxt)
      const tk = yield* fromFile(vocabFile, true)
      expect(tk.vocabSize).toBe(19)
      expect(tk.specials).toEqual({ pad: 0, unk: 1, cls: 2, sep: 3, mask: 4 })
      expect(Array.from(tk.encode("The cats sat, far AWAY. zebra"))).toEqual([5, 6, 15, 7, 18, 13, 14, 17, 1])
      expect(tk.decode([5, 6, 15, 7])).toBe("the cats sat")
      // save as tokenizer.json and load it back
      const jsonFile = path.join(dir, "tokenizer.json")
      tk.native.save(jsonFile)
      const fromJson = yield* fromFile(jsonFile, false)
      expect(Array.from(fromJson.encode("The cats sat, far AWAY. zebra"))).toEqual([5, 6, 15, 7, 18, 13, 14, 17, 1])
      expect(fromJson.specials).toEqual(tk.specials)
      const small = yield* smallTokenizer
      expect(small.vocabSize).toBe(19)
    }))

  it.effect("bad tokenizer files are UserErrors naming data.tokenizer.path", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem
      const path = yield* Path
      const dir = yield* tempDir
      const missing = yield* Effect.flip(fromFile(path.join(dir, "none.txt"), true))
      expect(missing.message).toMatch(/^data\.tokenizer\.path: no such file: /)
      const noMask = path.join(dir, "vocab.txt")
      yield* fs.writeFileString(noMask, "[PAD]\n[UNK]\n[CLS]\n[SEP]\nthe\n")
      expect((yield* Effect.flip(fromFile(noMask, true))).message).toMatch(/lacks the special token\(s\) \[MASK\]$/)
      const bpe = yield* Effect.flip(fromTokenizerJson(JSON.stringify({ model: { type: "BPE", vocab: {} } }), "t.json", "data.tokenizer.path"))
      expect(bpe.message).toBe("data.tokenizer.path: t.json: expected a tokenizer.json with a WordPiece model, found BPE")
    }))
})
