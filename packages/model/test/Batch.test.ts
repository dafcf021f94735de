import * as tf from "@tensorflow/tfjs-core"
import { beforeAll, describe, expect, it } from "vitest"
import { disposeBatch, toTensors } from "../src/BatchTensors.ts"
import { flops } from "../src/Flops.ts"
import { batchOf, tiny, useCpu, values } from "./fixtures.ts"

beforeAll(useCpu)

describe("batches and FLOPs", () => {
  it("moves a batch to int32 tensors and disposes them", () => {
    const before = tf.memory().numTensors
    const raw = batchOf(tiny(), 3)
    const b = toTensors(raw)
    expect(b.inputIds.shape).toEqual([3, 6])
    expect(b.inputIds.dtype).toBe("int32")
    expect(b.targetIds.dtype).toBe("int32")
    expect(values(b.targetPositions)).toEqual(Array.from(raw.targetPositions))
    expect(tf.memory().numTensors).toBe(before + 3)
    disposeBatch(b)
    expect(tf.memory().numTensors).toBe(before)
    expect(() => toTensors({ ...raw, inputIds: new Int32Array(5) })).toThrow(/inputIds has 5 ids/)
    expect(() => toTensors({ ...raw, targetIds: new Int32Array(1) })).toThrow(/targetPositions but 1 targetIds/)
  })

  it("counts 67.7 GFLOP for the reference step (all 2048 positions scored)", () => {
    const ref = { dModel: 256, heads: 4, layers: 4, dFF: 1024, seqLen: 128, vocabSize: 8192, activation: "relu", ffBias: false, causal: true, finalLayerNorm: true } as const
    const f = flops(ref, 16, 16 * 128)
    expect(f.forwardBackward / 1e9).toBeCloseTo(67.65, 1)
    expect(f.forwardBackward).toBe(3 * f.forward)
    // scoring 15% of positions (MLM) only shrinks the head term
    const mlm = flops(ref, 16, 307)
    expect(f.forward - mlm.forward).toBe(2 * (2048 - 307) * 256 * 8192)
  })
})
