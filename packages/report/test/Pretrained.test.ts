/**
 * FF magnitudes from small safetensors files written here, one per architecture and dtype, with
 * magnitudes known from the logical matrices W_in [dModel, dFF] and W_out [dFF, dModel].
 */
import { describe, expect, it } from "@effect/vitest"
import { UserError } from "@rekindle/core"
import { Safetensors } from "@rekindle/model"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Pretrained } from "../src/index.ts"

const dModel = 3
const dFF = 5

/** Deterministic logical weights of layer l. */
const logical = (l: number) => {
  const win = Array.from({ length: dModel }, (_, r) => Array.from({ length: dFF }, (_, c) => Math.sin(1 + l * 7 + r * 3 + c * 1.3) * (c + 1)))
  const wout = Array.from({ length: dFF }, (_, r) => Array.from({ length: dModel }, (_, c) => Math.cos(2 + l * 5 + r * 1.7 + c) * (dFF - r)))
  const magnitude = Array.from({ length: dFF }, (_, i) =>
    Math.hypot(...win.map((row) => row[i]!)) * Math.hypot(...wout[i]!))
  return { win, wout, magnitude }
}
const transpose = (m: Array<Array<number>>) => m[0]!.map((_, c) => m.map((row) => row[c]!))
const flat = (m: Array<Array<number>>) => m.flat()

interface Raw { readonly dtype: string; readonly shape: ReadonlyArray<number>; readonly bytes: Uint8Array }

const f32 = (m: Array<Array<number>>): Raw => ({ dtype: "F32", shape: [m.length, m[0]!.length], bytes: new Uint8Array(Float32Array.from(flat(m)).buffer) })
const half = (m: Array<Array<number>>, dtype: "F16" | "BF16"): Raw => {
  const values = Float32Array.from(flat(m))
  const bits = dtype === "F16" ? Safetensors.float32ToF16(values) : Safetensors.float32ToBf16(values)
  return { dtype, shape: [m.length, m[0]!.length], bytes: new Uint8Array(bits.buffer) }
}

/** A safetensors file written by hand (any dtype), so tests do not depend on the reader's own encoder. */
const writeRaw = (tensors: Record<string, Raw>, tweak?: (header: Record<string, any>) => void, truncate = 0): string => {
  const header: Record<string, any> = {}
  let offset = 0
  const chunks: Array<Uint8Array> = []
  for (const [name, t] of Object.entries(tensors)) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.length] }
    chunks.push(t.bytes)
    offset += t.bytes.length
  }
  tweak?.(header)
  const json = new TextEncoder().encode(JSON.stringify(header))
  const out = new Uint8Array(8 + json.length + offset)
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true)
  out.set(json, 8)
  let at = 8 + json.length
  for (const c of chunks) {
    out.set(c, at)
    at += c.length
  }
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-st-")), "model.safetensors")
  fs.writeFileSync(file, out.subarray(0, out.length - truncate))
  return file
}

const expectMagnitudes = (data: Pretrained.MagnitudesData, layers: Array<number>, tolerance: number) => {
  expect(data.layers).toHaveLength(layers.length)
  data.layers.forEach((got, i) => {
    const want = logical(layers[i]!).magnitude
    expect(got.dFF).toBe(dFF)
    expect(got.dModel).toBe(dModel)
    expect(got.histogram.counts.reduce((a, b) => a + b, 0)).toBe(dFF)
    expect(got.histogram.min).toBeCloseTo(Math.min(...want), tolerance)
    expect(got.histogram.max).toBeCloseTo(Math.max(...want), tolerance)
    expect(got.histogram.mean).toBeCloseTo(want.reduce((a, b) => a + b, 0) / dFF, tolerance)
    expect(got.quantiles[2]).toBeCloseTo([...want].sort((a, b) => a - b)[2]!, tolerance)
  })
}

const bertFile = () => {
  const t: Record<string, Raw> = {
    "bert.embeddings.position_ids": { dtype: "I64", shape: [1, 4], bytes: new Uint8Array(32) },
    "bert.pooler.dense.weight": f32([[1, 2], [3, 4]])
  }
  for (const l of [0, 1]) {
    const { win, wout } = logical(l)
    t[`bert.encoder.layer.${l}.attention.output.dense.weight`] = f32([[1, 0, 0], [0, 1, 0], [0, 0, 1]])
    t[`bert.encoder.layer.${l}.intermediate.dense.weight`] = f32(transpose(win)) // Linear: [dFF, dModel]
    t[`bert.encoder.layer.${l}.output.dense.weight`] = f32(transpose(wout)) // Linear: [dModel, dFF]
  }
  return writeRaw(t)
}

describe("FF magnitudes of pretrained checkpoints", () => {
  it("BERT (F32, Linear layout): attention weights and an I64 buffer are ignored", () => {
    const data = Pretrained.analyze(bertFile(), { arch: "bert", bins: 4 })
    expect(data.arch).toBe("bert")
    expect(data.layers.map((l) => l.label)).toEqual(["layer 0", "layer 1"])
    expect(data.layers[0]!.win).toBe("bert.encoder.layer.0.intermediate.dense.weight")
    expectMagnitudes(data, [0, 1], 5)
  })

  it("GPT-2 (F16, Conv1D layout) and auto-detection", () => {
    const t: Record<string, Raw> = {}
    for (const l of [0, 1, 2]) {
      const { win, wout } = logical(l)
      t[`transformer.h.${l}.attn.c_proj.weight`] = half([[1, 0, 0], [0, 1, 0], [0, 0, 1]], "F16")
      t[`transformer.h.${l}.mlp.c_fc.weight`] = half(win, "F16") // Conv1D: [dModel, dFF]
      t[`transformer.h.${l}.mlp.c_proj.weight`] = half(wout, "F16") // Conv1D: [dFF, dModel]
    }
    const data = Pretrained.analyze(writeRaw(t), { bins: 8 })
    expect(data.arch).toBe("gpt2")
    expect(data.layers.map((l) => l.label)).toEqual(["h.0", "h.1", "h.2"])
    expect(data.layers[0]!.dtype).toBe("F16")
    expectMagnitudes(data, [0, 1, 2], 1)
  })

  it("T5 (BF16): encoder then decoder blocks; gated wi_0 + wi_1 use both input rows", () => {
    const t: Record<string, Raw> = {}
    for (const [part, sub] of [["encoder", 1], ["decoder", 2]] as const) {
      for (const b of [0, 1]) {
        const { win, wout } = logical(part === "encoder" ? b : 2 + b)
        t[`${part}.block.${b}.layer.${sub}.DenseReluDense.wi.weight`] = half(transpose(win), "BF16")
        t[`${part}.block.${b}.layer.${sub}.DenseReluDense.wo.weight`] = half(transpose(wout), "BF16")
      }
    }
    const data = Pretrained.analyze(writeRaw(t), { arch: "t5", bins: 5 })
    expect(data.layers.map((l) => l.label)).toEqual(["encoder 0", "encoder 1", "decoder 0", "decoder 1"])
    expectMagnitudes(data, [0, 1, 2, 3], 0)

    // gated: the input norm is the norm of [wi_0[i, :], wi_1[i, :]]
    const { win, wout } = logical(0)
    const gated = Pretrained.analyze(writeRaw({
      "encoder.block.0.layer.1.DenseReluDense.wi_0.weight": f32(transpose(win)),
      "encoder.block.0.layer.1.DenseReluDense.wi_1.weight": f32(transpose(win).map((row) => row.map((v) => 2 * v))),
      "encoder.block.0.layer.1.DenseReluDense.wo.weight": f32(transpose(wout))
    }), { arch: "t5", bins: 5 })
    const want = logical(0).magnitude.map((m) => m * Math.sqrt(5))
    expect(gated.layers[0]!.histogram.max).toBeCloseTo(Math.max(...want), 4)
    expect(gated.layers[0]!.win).toContain("wi_1")
  })

  it("rekindle checkpoints: weights under param/ win over optimizer slots", () => {
    const entries: Record<string, Safetensors.Entry> = {}
    const { win, wout } = logical(0)
    entries["param/layers.0.ff.win"] = { dtype: "F32", shape: [dModel, dFF], data: Float32Array.from(flat(win)) }
    entries["param/layers.0.ff.wout"] = { dtype: "F32", shape: [dFF, dModel], data: Float32Array.from(flat(wout)) }
    entries["opt/m/layers.0.ff.win"] = { dtype: "F32", shape: [dModel, dFF], data: new Float32Array(dModel * dFF) }
    entries["opt/m/layers.0.ff.wout"] = { dtype: "F32", shape: [dFF, dModel], data: new Float32Array(dModel * dFF) }
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-st-")), "step-00000010.safetensors")
    fs.writeFileSync(file, Safetensors.encode(entries, { "rekindle.state": "{}" }))
    const data = Pretrained.analyze(file, { bins: 3 })
    expect(data.arch).toBe("rekindle")
    expect(data.layers.map((l) => l.win)).toEqual(["param/layers.0.ff.win"])
    expectMagnitudes(data, [0], 5)
    expect(Pretrained.analyze(file, { bins: 3, prefix: "opt/m/" }).layers[0]!.histogram.max).toBe(0)
  })

  const userError = (f: () => unknown): string => {
    try {
      f()
    } catch (e) {
      expect(e).toBeInstanceOf(UserError)
      return (e as UserError).message
    }
    throw new Error("expected a UserError")
  }

  it("clear errors: wrong arch, unsupported FF dtype, bad header length, offsets out of bounds, truncation, overlap, missing file", () => {
    expect(userError(() => Pretrained.analyze(bertFile(), { arch: "gpt2", bins: 4 }))).toMatch(/no gpt2 FF weights.*looks like bert: try --arch bert/)
    const { win, wout } = logical(0)
    const ok = { "h.0.mlp.c_fc.weight": f32(win), "h.0.mlp.c_proj.weight": f32(wout) }
    const i64 = { ...ok, "h.0.mlp.c_fc.weight": { dtype: "I64", shape: [dModel, dFF], bytes: new Uint8Array(8 * dModel * dFF) } }
    expect(userError(() => Pretrained.analyze(writeRaw(i64), { bins: 4 }))).toMatch(/"h\.0\.mlp\.c_fc\.weight".*dtype I64 is not supported for FF weights \(supported: F32, F16, BF16\)/)
    const longHeader = writeRaw(ok)
    const bytes = fs.readFileSync(longHeader)
    new DataView(bytes.buffer, bytes.byteOffset).setBigUint64(0, 1n << 40n, true)
    fs.writeFileSync(longHeader, bytes)
    expect(userError(() => Pretrained.readIndex(longHeader))).toMatch(/header length \d+ exceeds the \d+ bytes after it/)
    expect(userError(() => Pretrained.readIndex(writeRaw(ok, (h) => (h["h.0.mlp.c_proj.weight"].data_offsets = [60, 10_000]))))).toMatch(/exceed the \d+ data bytes/)
    expect(userError(() => Pretrained.readIndex(writeRaw(ok, undefined, 7)))).toMatch(/exceed the \d+ data bytes/)
    expect(userError(() => Pretrained.readIndex(writeRaw(ok, (h) => (h["h.0.mlp.c_fc.weight"].shape = [dModel, dFF + 1]))))).toMatch(/needs 72/)
    expect(userError(() => Pretrained.readIndex(writeRaw(ok, (h) => (h["h.0.mlp.c_proj.weight"].data_offsets = [0, 60]))))).toMatch(/overlaps/)
    expect(userError(() => Pretrained.readIndex(writeRaw(ok, (h) => (h["x"] = { dtype: "F32", shape: [1], data_offsets: [-4, 0] }))))).toMatch(/data_offsets must be/)
    expect(userError(() => Pretrained.readIndex("/nonexistent/model.safetensors"))).toMatch(/no such file/)
    const notST = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-st-")), "x.safetensors")
    fs.writeFileSync(notST, "hello")
    expect(userError(() => Pretrained.readIndex(notST))).toMatch(/shorter than the 8-byte header length/)
    const swapped = { "h.0.mlp.c_fc.weight": f32(transpose(win)), "h.0.mlp.c_proj.weight": f32(wout) }
    expect(userError(() => Pretrained.analyze(writeRaw(swapped), { arch: "gpt2", bins: 4 }))).toMatch(/disagree on dFF\/dModel/)
    expect(userError(() => Pretrained.analyze(writeRaw({ "h.0.mlp.c_fc.weight": f32(win) }), { arch: "gpt2", bins: 4 }))).toMatch(/output matrix missing/)
    expect(userError(() => Pretrained.analyze(writeRaw({ "a.weight": f32(win) }), { bins: 4 }))).toMatch(/no FF weights of a known architecture/)
  })

  it("one set of checks with the checkpoint reader: a __proto__ name, unindexed trailing bytes, a gap, bad metadata", () => {
    const { win, wout } = logical(0)
    const ok = { "h.0.mlp.c_fc.weight": f32(win), "h.0.mlp.c_proj.weight": f32(wout) }
    const edit = (file: string, f: (bytes: Buffer) => Buffer) => {
      fs.writeFileSync(file, f(fs.readFileSync(file)))
      return file
    }
    // a same-length rename keeps every offset valid
    const proto = edit(writeRaw({ ...ok, "PROTO_XYZ": f32([[1]]) }), (b) => Buffer.from(b.toString("latin1").replace('"PROTO_XYZ"', '"__proto__"'), "latin1"))
    const trailing = edit(writeRaw(ok), (b) => Buffer.concat([b, Buffer.from([1, 2, 3, 4])]))
    const gap = writeRaw({ "h.0.mlp.c_fc.weight": f32(win), pad: f32([[1]]), "h.0.mlp.c_proj.weight": f32(wout) }, (h) => delete h["pad"])
    const metadata = writeRaw(ok, (h) => (h["__metadata__"] = { format: 3 }))
    const cases: Array<[string, RegExp]> = [
      [proto, /tensor "__proto__": is not an allowed tensor name/],
      [trailing, /data: 4 bytes after the last tensor are not indexed by the header/],
      [gap, /tensor "h\.0\.mlp\.c_proj\.weight": data_offsets \[\d+, \d+\] leave 4 bytes before it that no tensor indexes/],
      [metadata, /__metadata__\.format: must be a string, got 3/]
    ]
    for (const [file, expected] of cases) {
      const viaMagnitudes = userError(() => Pretrained.analyze(file, { bins: 4 }))
      expect(viaMagnitudes).toMatch(expected)
      expect(viaMagnitudes.startsWith(`${file}: `)).toBe(true)
      // the checkpoint reader says the same thing
      const viaCheckpoint = userError(() => Safetensors.decode(new Uint8Array(fs.readFileSync(file))))
      expect(viaCheckpoint.replace(/^safetensors: /, "")).toBe(viaMagnitudes.slice(file.length + 2))
    }
  })

  it("a file without tensors says so instead of listing no examples", () => {
    expect(userError(() => Pretrained.analyze(writeRaw({}), { bins: 4 }))).toMatch(/no FF weights of a known architecture \(bert, t5, gpt2, rekindle\) found; the file holds no tensors$/)
    const one = userError(() => Pretrained.analyze(writeRaw({ "a.weight": f32([[1]]) }), { bins: 4 }))
    expect(one).toMatch(/found; 1 tensor, e\.g\. "a\.weight"$/)
  })
})
