import { Key, UserError } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import { Effect, Result } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Safetensors from "../src/Safetensors.ts"
import * as Transformer from "../src/Transformer.ts"
import { disposeAll, tiny, useCpu, values } from "./fixtures.ts"

beforeAll(useCpu)
afterAll(() => expect(tf.memory().numTensors).toBe(0))

/** Builds a file by hand from a header object and a data buffer. */
const fileOf = (header: unknown, data: Uint8Array, headerLength?: number): Uint8Array => {
  const json = new TextEncoder().encode(JSON.stringify(header))
  const out = new Uint8Array(8 + json.length + data.length)
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength ?? json.length), true)
  out.set(json, 8)
  out.set(data, 8 + json.length)
  return out
}

const f32 = (...xs: Array<number>) => new Uint8Array(Float32Array.from(xs).buffer)

const errorOf = (bytes: Uint8Array): UserError => {
  try {
    Safetensors.decode(bytes)
  } catch (e) {
    expect(e).toBeInstanceOf(UserError)
    return e as UserError
  }
  throw new Error("decode accepted a bad file")
}

describe("Safetensors", () => {
  it("round-trips F32, I32, F16 and BF16 tensors and metadata", () => {
    const tensors: Record<string, Safetensors.Entry> = {
      "a.f32": { dtype: "F32", shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 0, 1e-3, -7]) },
      "b.i32": { dtype: "I32", shape: [3], data: Int32Array.from([-1, 0, 2147483647]) },
      "c.f16": { dtype: "F16", shape: [4], data: Float32Array.from([1, -0.5, 65504, 0.1]) },
      "d.bf16": { dtype: "BF16", shape: [2, 2], data: Float32Array.from([1, -3, 1e30, 0.1]) },
      "e.empty": { dtype: "F32", shape: [0, 4], data: new Float32Array(0) }
    }
    const bytes = Safetensors.encode(tensors, { format: "pt", step: "12" })
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true))
    expect(headerLength % 8).toBe(0)
    const back = Safetensors.decode(bytes)
    expect(back.metadata).toEqual({ format: "pt", step: "12" })
    expect(Object.keys(back.tensors).sort()).toEqual(Object.keys(tensors).sort())
    expect(back.tensors["a.f32"]).toEqual(tensors["a.f32"])
    expect(back.tensors["b.i32"]).toEqual(tensors["b.i32"])
    expect(back.tensors["c.f16"]!.data).toBeInstanceOf(Uint16Array)
    expect(Array.from(Safetensors.toFloat32(back.tensors["c.f16"]!))).toEqual([1, -0.5, 65504, Math.fround(0.0999755859375)])
    const bf = Array.from(Safetensors.toFloat32(back.tensors["d.bf16"]!))
    expect(bf.slice(0, 2)).toEqual([1, -3])
    expect(Math.abs(bf[2]! / 1e30 - 1)).toBeLessThan(1 / 128)
    expect(Math.abs(bf[3]! - 0.1)).toBeLessThan(0.1 / 128)
    expect(back.tensors["e.empty"]!.shape).toEqual([0, 4])
  })

  it("reads a file laid out as HuggingFace writes it", () => {
    // {"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"i":{...,"data_offsets":[8,12]}}
    const header = {
      __metadata__: { format: "pt" },
      w: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
      i: { dtype: "I32", shape: [], data_offsets: [8, 12] }
    }
    const data = new Uint8Array([...f32(1.5, -2), ...new Uint8Array(Int32Array.from([42]).buffer)])
    const d = Safetensors.decode(fileOf(header, data))
    expect(Array.from(d.tensors["w"]!.data)).toEqual([1.5, -2])
    expect(d.tensors["i"]).toEqual({ dtype: "I32", shape: [], data: Int32Array.from([42]) })
  })

  it("rejects bad files with a UserError naming the problem and the tensor", () => {
    expect(errorOf(new Uint8Array(5)).message).toMatch(/shorter than the 8-byte header length/)
    expect(errorOf(fileOf({}, new Uint8Array(0), 1000)).message).toMatch(/header length 1000 exceeds/)
    const bad = fileOf({}, new Uint8Array(0))
    bad.set(new TextEncoder().encode("{x"), 8)
    expect(errorOf(bad).message).toMatch(/not valid JSON/)
    expect(errorOf(fileOf([1], new Uint8Array(0))).message).toMatch(/must be a JSON object/)
    const e = errorOf(fileOf({ "layers.0.w": { dtype: "F64", shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8)))
    expect(e.message).toMatch(/tensor "layers.0.w": unsupported dtype "F64"/)
    expect(e.problems?.[0]?.path).toBe(`tensor "layers.0.w"`)
    expect(errorOf(fileOf({ w: { dtype: "F32", shape: [2], data_offsets: [0, 8] } }, new Uint8Array(4))).message)
      .toMatch(/tensor "w": data_offsets \[0, 8\] exceed the 4 data bytes/)
    expect(errorOf(fileOf({ w: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8))).message)
      .toMatch(/tensor "w": holds 8 bytes but F32\[3\] needs 12/)
    expect(errorOf(fileOf({ w: { dtype: "F32", shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4))).message)
      .toMatch(/tensor "w": shape must be an array of non-negative integers/)
    expect(errorOf(fileOf({ w: { dtype: "F32", shape: [1], data_offsets: [4, 0] } }, new Uint8Array(4))).message)
      .toMatch(/run backwards/)
    expect(errorOf(fileOf({ w: { dtype: "F32", shape: [1] } }, new Uint8Array(4))).message).toMatch(/tensor "w": data_offsets must be/)
    expect(errorOf(fileOf({
      a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
      b: { dtype: "F32", shape: [2], data_offsets: [4, 12] }
    }, new Uint8Array(12))).message).toMatch(/tensor "b": data_offsets \[4, 12\] overlaps tensor "a"/)
    expect(errorOf(fileOf({ __metadata__: { n: 1 } }, new Uint8Array(0))).message).toMatch(/__metadata__.n: must be a string/)
  })

  it("decodeEffect fails with the UserError", () => {
    const r = Effect.runSync(Effect.result(Safetensors.decodeEffect(new Uint8Array(3))))
    expect(Result.isFailure(r)).toBe(true)
    if (Result.isFailure(r)) expect(r.failure).toBeInstanceOf(UserError)
  })

  it("round-trips a model's parameters through tensors", () => {
    const model = Transformer.make(tiny({ ffBias: true }))
    const params = model.init(Key.make(1))
    const back = Safetensors.toTensors(Safetensors.decode(Safetensors.encode(Safetensors.fromTensors(params))).tensors)
    expect(Object.keys(back).sort()).toEqual(Object.keys(params).sort())
    for (const name of Object.keys(params)) {
      expect(back[name]!.shape, name).toEqual(params[name]!.shape)
      expect(values(back[name]!), name).toEqual(values(params[name]!))
    }
    disposeAll(params)
    disposeAll(back)
  })

  it("refuses to encode inconsistent entries", () => {
    expect(() => Safetensors.encode({ w: { dtype: "F32", shape: [3], data: new Float32Array(2) } })).toThrow(/tensor "w": 2 values for shape \[3\]/)
    expect(() => Safetensors.encode({ w: { dtype: "I32", shape: [1], data: new Float32Array(1) } })).toThrow(/I32 data must be an Int32Array/)
  })
})
