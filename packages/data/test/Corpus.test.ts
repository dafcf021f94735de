import { gzipSync } from "node:zlib"
import { layer } from "@effect/vitest"
import { NodeServices } from "@effect/platform-node"
import { Effect } from "effect"
import { FileSystem } from "effect/FileSystem"
import { Path } from "effect/Path"
import { expect } from "vitest"
import { load } from "../src/Corpus.ts"
import { tempDir } from "./fixtures.ts"

const jsonl = (texts: ReadonlyArray<string>, extra: Record<string, unknown> = {}) =>
  texts.map((text) => JSON.stringify({ ...extra, text, url: "http://x" })).join("\n") + "\n"

layer(NodeServices.layer)("corpus loaders", (it) => {
  it.effect("txt: one document per blank-line-separated paragraph, or per file", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem
      const path = yield* Path
      const dir = yield* tempDir
      yield* fs.writeFileString(path.join(dir, "b.txt"), "Second file.\r\n\r\nIts   second\nparagraph.\n")
      yield* fs.writeFileString(path.join(dir, "a.txt"), "First paragraph,\nstill first.\n\n  \n\nSecond one.\n")
      yield* fs.writeFileString(path.join(dir, "ignored.md"), "not text")
      const one = yield* load({ kind: "text", path: path.join(dir, "a.txt") })
      expect(one).toEqual(["First paragraph, still first.", "Second one."])
      const folder = yield* load({ kind: "text", path: dir })
      expect(folder).toEqual(["First paragraph, still first.", "Second one.", "Second file.", "Its second paragraph."])
      const files = yield* load({ kind: "text", path: dir, documents: "files" })
      expect(files).toHaveLength(2)
      expect(files[1]).toBe("Second file.\r\n\r\nIts   second\nparagraph.")
      const limited = yield* load({ kind: "text", path: dir, maxDocuments: 3 })
      expect(limited).toHaveLength(3)
    }))

  it.effect("jsonl, jsonl.gz and json.gz (C4 shards): the text field of each line", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem
      const path = yield* Path
      const dir = yield* tempDir
      yield* fs.writeFileString(path.join(dir, "a.jsonl"), jsonl(["alpha one", "alpha two"]) + "\n")
      yield* fs.writeFile(path.join(dir, "b.jsonl.gz"), gzipSync(jsonl(["beta one"])))
      yield* fs.writeFile(path.join(dir, "c4-train.00000-of-01024.json.gz"), gzipSync(jsonl(["gamma one", "gamma two"], { timestamp: "2019" })))
      expect(yield* load({ kind: "jsonl", path: path.join(dir, "a.jsonl"), field: "text" })).toEqual(["alpha one", "alpha two"])
      expect(yield* load({ kind: "jsonl", path: path.join(dir, "b.jsonl.gz"), field: "text" })).toEqual(["beta one"])
      expect(yield* load({ kind: "jsonl", path: dir, field: "text" })).toEqual(
        ["alpha one", "alpha two", "beta one", "gamma one", "gamma two"]
      )
      expect(yield* load({ kind: "jsonl", path: dir, field: "text", maxDocuments: 4 })).toEqual(
        ["alpha one", "alpha two", "beta one", "gamma one"]
      )
      const wrongField = yield* Effect.flip(load({ kind: "jsonl", path: path.join(dir, "a.jsonl"), field: "body" }))
      expect(wrongField.message).toMatch(/^data\.corpus\.field: .*a\.jsonl:1 has no string field "body"/)
      yield* fs.writeFileString(path.join(dir, "bad.jsonl"), `{"text":"ok"}\n{oops\n`)
      const badJson = yield* Effect.flip(load({ kind: "jsonl", path: path.join(dir, "bad.jsonl"), field: "text" }))
      expect(badJson.message).toMatch(/^data\.corpus\.path: .*bad\.jsonl:2 is not valid JSON/)
    }))

  it.effect("a missing file or an empty folder is a UserError naming data.corpus.path", () =>
    Effect.gen(function*() {
      const path = yield* Path
      const dir = yield* tempDir
      const missing = path.join(dir, "nope.txt")
      const e1 = yield* Effect.flip(load({ kind: "text", path: missing }))
      expect(e1._tag).toBe("UserError")
      expect(e1.message).toBe(`data.corpus.path: no such file or folder: ${missing}`)
      const e2 = yield* Effect.flip(load({ kind: "jsonl", path: path.join(dir, "nope.jsonl.gz"), field: "text" }))
      expect(e2.message).toMatch(/^data\.corpus\.path: no such file or folder/)
      const e3 = yield* Effect.flip(load({ kind: "jsonl", path: dir, field: "text" }))
      expect(e3.message).toMatch(/^data\.corpus\.path: the folder .* has no \.jsonl/)
    }))
})
