import { layer } from "@effect/vitest"
import { NodeServices } from "@effect/platform-node"
import { Key } from "@rekindle/core"
import type { Batch } from "@rekindle/core"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { evalBatches, trainStream } from "../src/Batches.ts"
import type { Dataset } from "../src/Dataset.ts"
import { layout, windowCount } from "../src/Windows.ts"
import { syntheticDataset } from "./fixtures.ts"

const masking = { prob: 0.15, mask: 0.8, random: 0.1 }
const specialsOf = (d: Dataset) => new Set(Object.values(d.tokenizer.specials))
const same = (a: Batch.Batch, b: Batch.Batch) => {
  expect(Array.from(a.inputIds)).toEqual(Array.from(b.inputIds))
  expect(Array.from(a.targetPositions)).toEqual(Array.from(b.targetPositions))
  expect(Array.from(a.targetIds)).toEqual(Array.from(b.targetIds))
}
const dataset = Effect.runSync(syntheticDataset(40_000, 4_000).pipe(Effect.provide(NodeServices.layer)))

describe("windows", () => {
  it("counts whole windows per objective", () => {
    expect(layout("mlm", 8)).toMatchObject({ span: 6, stride: 6 })
    expect(layout("causal", 8)).toMatchObject({ span: 9, stride: 8 })
    expect(windowCount(20, layout("mlm", 8), 0)).toBe(3)
    expect(windowCount(20, layout("mlm", 8), 3)).toBe(2)
    expect(windowCount(17, layout("causal", 8), 0)).toBe(2)
    expect(windowCount(16, layout("causal", 8), 0)).toBe(1)
    expect(() => layout("mlm", 2)).toThrow(/model\.seqLen: expected an integer >= 3/)
  })
})

describe("masked LM batches", () => {
  it("have [CLS] ... [SEP] rows, targets at 15% of non-special tokens, 80/10/10 corruption", () => {
    const stream = trainStream(dataset, { batchSize: 16, seqLen: 64, objective: "mlm", masking, key: Key.make(1) })
    const special = specialsOf(dataset)
    const { cls, sep, mask } = dataset.tokenizer.specials
    let eligible = 0, targets = 0, masked = 0, kept = 0, replaced = 0
    for (let step = 0; step < 60; step++) {
      const b = stream.next()
      expect(b.inputIds).toHaveLength(16 * 64)
      expect(b.targetPositions).toHaveLength(b.targetIds.length)
      const original = Int32Array.from(b.inputIds)
      b.targetPositions.forEach((p, i) => (original[p] = b.targetIds[i]!))
      for (let r = 0; r < 16; r++) {
        expect(b.inputIds[r * 64]).toBe(cls)
        expect(b.inputIds[r * 64 + 63]).toBe(sep)
        const perRow = Array.from(b.targetPositions).filter((p) => Math.floor(p / 64) === r)
        expect(perRow.length).toBeGreaterThanOrEqual(1)
      }
      for (const id of original) if (!special.has(id)) eligible++
      expect(Array.from(b.targetPositions)).toEqual(Array.from(b.targetPositions).sort((x, y) => x - y))
      b.targetPositions.forEach((p, i) => {
        const target = b.targetIds[i]!
        expect(special.has(target)).toBe(false) // specials are never targets
        targets++
        const input = b.inputIds[p]!
        if (input === mask) masked++
        else if (input === target) kept++
        else {
          replaced++
          expect(special.has(input)).toBe(false)
        }
      })
    }
    expect(Math.abs(targets / eligible - 0.15)).toBeLessThan(0.01)
    // a random replacement can draw the original token (1 in vocabSize - 5 = 14 here)
    const pSame = 0.1 / 14
    expect(Math.abs(masked / targets - 0.8)).toBeLessThan(0.02)
    expect(Math.abs(kept / targets - (0.1 + pSame))).toBeLessThan(0.015)
    expect(Math.abs(replaced / targets - (0.1 - pSame))).toBeLessThan(0.015)
  })

  it("puts at least one target in every sequence even at tiny rates", () => {
    const stream = trainStream(dataset, { batchSize: 8, seqLen: 16, objective: "mlm", masking: { prob: 0, mask: 1, random: 0 }, key: Key.make(3) })
    const b = stream.next()
    expect(new Set(Array.from(b.targetPositions, (p) => Math.floor(p / 16))).size).toBe(8)
    expect(b.targetPositions).toHaveLength(8)
  })
})

describe("causal LM batches", () => {
  it("target the next token at every position", () => {
    const stream = trainStream(dataset, { batchSize: 4, seqLen: 32, objective: "causal", masking, key: Key.make(2) })
    for (let step = 0; step < 5; step++) {
      const b = stream.next()
      expect(Array.from(b.targetPositions)).toEqual(Array.from({ length: 128 }, (_, i) => i))
      for (let r = 0; r < 4; r++) {
        const row = b.inputIds.subarray(r * 32, r * 32 + 32)
        const next = b.targetIds.subarray(r * 32, r * 32 + 32)
        expect(Array.from(next.subarray(0, 31))).toEqual(Array.from(row.subarray(1)))
        // the row is a contiguous slice of the stream, and its last target follows it there
        const start = findSlice(dataset.train, row)
        expect(start).toBeGreaterThanOrEqual(0)
        expect(next[31]).toBe(dataset.train[start + 32])
      }
    }
  })
})

const findSlice = (stream: Int32Array, row: Int32Array): number => {
  outer: for (let s = 0; s + row.length <= stream.length; s++) {
    for (let i = 0; i < row.length; i++) if (stream[s + i] !== row[i]) continue outer
    return s
  }
  return -1
}

describe("streams", () => {
  const options = { batchSize: 8, seqLen: 128, objective: "mlm" as const, masking }

  it("are deterministic for a key and differ across keys", () => {
    const a = trainStream(dataset, { ...options, key: Key.make(5) })
    const b = trainStream(dataset, { ...options, key: Key.make(5) })
    const c = trainStream(dataset, { ...options, key: Key.make(6) })
    for (let i = 0; i < 3; i++) {
      const [x, y, z] = [a.next(), b.next(), c.next()]
      same(x, y)
      expect(Array.from(x.inputIds)).not.toEqual(Array.from(z.inputIds))
    }
  })

  it("resume from a saved position with exactly the batches of the uninterrupted stream, across epochs", () => {
    for (const objective of ["mlm", "causal"] as const) {
      const key = Key.make(11)
      const whole = trainStream(dataset, { ...options, objective, key })
      const windows = windowCount(dataset.train.length, layout(objective, 128), 0)
      const steps = Math.ceil((1.5 * windows) / 8) // cross an epoch boundary
      for (let i = 0; i < steps; i++) whole.next()
      const saved = JSON.parse(JSON.stringify(whole.position())) as { epoch: number; index: number }
      expect(saved.epoch).toBe(1)
      const resumed = trainStream(dataset, { ...options, objective, key, from: saved })
      for (let i = 0; i < Math.ceil(windows / 8); i++) same(resumed.next(), whole.next())
      expect(resumed.position()).toEqual(whole.position())
    }
  })

  it("visit every window once per epoch, with a different order and offset each epoch", () => {
    const small = { ...dataset, train: dataset.train.subarray(0, 6000) }
    const stream = trainStream(small, { batchSize: 1, seqLen: 64, objective: "causal", masking, key: Key.make(8) })
    const epochRows = (): Array<number> => {
      const starts: Array<number> = []
      const epoch = stream.position().epoch
      while (stream.position().epoch === epoch) starts.push(findSlice(small.train, stream.next().inputIds))
      return starts
    }
    const first = epochRows()
    const second = epochRows()
    for (const starts of [first, second]) {
      const offset = Math.min(...starts)
      expect(offset).toBeLessThan(64)
      expect(new Set(starts).size).toBe(starts.length)
      for (const s of starts) expect((s - offset) % 64).toBe(0)
    }
    expect(first).not.toEqual(second)
  })

  it("do not depend on the batch size: two batches of 4 are one batch of 8", () => {
    const big = trainStream(dataset, { ...options, key: Key.make(12) }).next()
    const small = trainStream(dataset, { ...options, batchSize: 4, key: Key.make(12) })
    const [a, b] = [small.next(), small.next()]
    expect(Array.from(big.inputIds)).toEqual([...a.inputIds, ...b.inputIds])
    expect(Array.from(big.targetIds)).toEqual([...a.targetIds, ...b.targetIds])
    expect(Array.from(big.targetPositions)).toEqual([...a.targetPositions, ...Array.from(b.targetPositions, (p) => p + 4 * 128)])
  })

  it("reject a resume position outside the epoch", () => {
    expect(() => trainStream(dataset, { ...options, key: Key.make(1), from: { epoch: 0, index: 1e9 } })).toThrow(/resume position/)
  })

  it("fail clearly when the stream is shorter than one sequence", () => {
    const tiny = { ...dataset, train: dataset.train.subarray(0, 10) }
    expect(() => trainStream(tiny, { ...options, key: Key.make(1) })).toThrow(/data\.corpus: the training stream has 10 tokens/)
  })
})

describe("eval batches", () => {
  it("are the same list on every call for a key, drawn from the eval stream", () => {
    const opts = { batchSize: 4, seqLen: 64, objective: "mlm" as const, masking, count: 5 }
    const a = evalBatches(dataset, { ...opts, key: Key.make(21) })
    const b = evalBatches(dataset, { ...opts, key: Key.make(21) })
    const c = evalBatches(dataset, { ...opts, key: Key.make(22) })
    expect(a).toHaveLength(5)
    a.forEach((x, i) => same(x, b[i]!))
    expect(Array.from(a[0]!.inputIds)).not.toEqual(Array.from(c[0]!.inputIds))
    const causal = evalBatches(dataset, { ...opts, objective: "causal", key: Key.make(21) })
    for (const batch of causal) {
      for (let r = 0; r < 4; r++) expect(findSlice(dataset.eval, batch.inputIds.subarray(r * 64, r * 64 + 64))).toBeGreaterThanOrEqual(0)
    }
  })
})

layer(NodeServices.layer)("synthetic fixture", (it) => {
  it.effect("has only non-special ids besides [SEP]", () =>
    Effect.gen(function*() {
      const d = yield* syntheticDataset(1000, 100)
      const special = specialsOf(d)
      for (const id of d.train) if (special.has(id)) expect(id).toBe(d.tokenizer.specials.sep)
    }))
})
