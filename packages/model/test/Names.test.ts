import { describe, expect, it } from "vitest"
import * as Names from "../src/Names.ts"
import { tiny } from "./fixtures.ts"

describe("Names", () => {
  it("names and shapes every parameter of a BERT-style config", () => {
    const c = tiny({ layers: 1, ffBias: true })
    expect(Names.shapes(c)).toEqual({
      "embed.token": [11, 8],
      "embed.position": [6, 8],
      "layers.0.ln1.gain": [8],
      "layers.0.ln1.bias": [8],
      "layers.0.attn.wq": [8, 8],
      "layers.0.attn.wk": [8, 8],
      "layers.0.attn.wv": [8, 8],
      "layers.0.attn.wo": [8, 8],
      "layers.0.attn.bq": [8],
      "layers.0.attn.bk": [8],
      "layers.0.attn.bv": [8],
      "layers.0.attn.bo": [8],
      "layers.0.ln2.gain": [8],
      "layers.0.ln2.bias": [8],
      "layers.0.ff.win": [8, 12],
      "layers.0.ff.wout": [12, 8],
      "layers.0.ff.bin": [12],
      "layers.0.ff.bout": [8],
      "final.ln.gain": [8],
      "final.ln.bias": [8],
      "head.w": [8, 11],
      "head.b": [11]
    })
  })

  it("omits FF biases by default, the final LayerNorm when off, and the whole FF sublayer when dFF = 0", () => {
    const names = Object.keys(Names.shapes(tiny({ finalLayerNorm: false })))
    expect(names).not.toContain("layers.0.ff.bin")
    expect(names).not.toContain("final.ln.gain")
    expect(names).toContain("layers.1.ff.wout")
    const noFF = Object.keys(Names.shapes(tiny({ dFF: 0 })))
    expect(noFF.filter((n) => n.includes(".ff.") || n.includes(".ln2."))).toEqual([])
    expect(noFF).toContain("layers.1.attn.wo")
  })

  it("lists each FF layer's neuron slices in the topology", () => {
    const t = Names.topology(tiny({ ffBias: true }))
    expect(t.layers).toHaveLength(2)
    expect(t.layers[1]).toEqual({
      layer: 1,
      dModel: 8,
      dFF: 12,
      win: "layers.1.ff.win",
      wout: "layers.1.ff.wout",
      slices: [
        { param: "layers.1.ff.win", axis: 1, role: "in" },
        { param: "layers.1.ff.wout", axis: 0, role: "out" },
        { param: "layers.1.ff.bin", axis: 0, role: "bias" }
      ]
    })
    expect(Names.topology(tiny()).layers[0]!.slices).toHaveLength(2)
    expect(Names.topology(tiny({ dFF: 0 })).layers).toEqual([])
  })
})
