/**
 * Reads the TensorBoard event file back: TFRecord framing checked with @aws-crypto/crc32c (masked
 * as TensorFlow does, computed here independently of the writer), records decoded with protobufjs.
 */
import { NodeServices } from "@effect/platform-node"
import { crc32c } from "@aws-crypto/crc32c"
import { describe, expect, it } from "@effect/vitest"
import { Event, RunLocation } from "@rekindle/core"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as Tensorboard from "../src/Tensorboard.ts"

const mask = (crc: number) => {
  const rotated = ((crc >>> 15) | (crc << 17)) >>> 0
  return (rotated + 0xa282ead8) % 2 ** 32
}

/** Splits a TFRecord file into records, throwing on a bad length or data CRC. */
const records = (bytes: Uint8Array): Array<Uint8Array> => {
  const out: Array<Uint8Array> = []
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let at = 0
  while (at < bytes.length) {
    if (at + 12 > bytes.length) throw new Error(`truncated header at ${at}`)
    const n = Number(view.getBigUint64(at, true))
    if (view.getUint32(at + 8, true) !== mask(crc32c(bytes.subarray(at, at + 8)))) throw new Error(`bad length crc at ${at}`)
    const data = bytes.subarray(at + 12, at + 12 + n)
    if (data.length !== n || at + 16 + n > bytes.length) throw new Error(`truncated record at ${at}`)
    if (view.getUint32(at + 12 + n, true) !== mask(crc32c(data))) throw new Error(`bad data crc at ${at}`)
    out.push(data)
    at += 16 + n
  }
  return out
}

const decode = (data: Uint8Array) =>
  Tensorboard.EventProto.toObject(Tensorboard.EventProto.decode(data), { longs: Number, defaults: false }) as {
    wall_time: number
    step?: number
    file_version?: string
    summary?: { value: Array<{ tag: string; simple_value?: number; histo?: Record<string, unknown> }> }
  }

const started = Event.RunStarted.make({
  time: "2026-01-01T00:00:00.000Z", run: "r-1", pipelineHash: "abc", seed: 1,
  backend: { name: "wasm", threads: 2, simd: true, overrides: true }, parameters: 1000, steps: 100
})
const trainStep = Event.TrainStep.make({ step: 50, loss: 3.25, lr: 1e-3, tokens: 1000, ms: 10, tokensPerSec: 2000 })
const evalEvent = Event.Eval.make({ step: 100, loss: 2.5, accuracy: 0.375, batches: 2, tokens: 100 })
const scalar = Event.Scalar.make({ step: 100, probe: "probe/magnitudes", name: "magnitude-mean", layer: 1, value: 0.1 })
const values = [1, 2, 2, 3, 3, 3]
const mean = 14 / 6
const std = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / 6)
const hist = Event.Histogram.make({ step: 100, probe: "probe/magnitudes", name: "magnitude", layer: 0, edges: [0.5, 1.5, 2.5, 3.5], counts: [1, 2, 3], mean, std })

const write = (events: ReadonlyArray<Event.Event>, options = { dir: "tb", histograms: true }) =>
  Effect.gen(function*() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-tb-"))
    yield* Effect.scoped(Effect.gen(function*() {
      const sink = yield* Tensorboard.make(options)
      for (const e of events) yield* sink.write(e)
      yield* sink.flush
    })).pipe(Effect.provideService(RunLocation, RunLocation.of({ path: dir })))
    const files = fs.readdirSync(path.join(dir, options.dir))
    expect(files).toHaveLength(1)
    expect(files[0]).toMatch(/^events\.out\.tfevents\.\d+\./)
    return fs.readFileSync(path.join(dir, options.dir, files[0]!))
  }).pipe(Effect.provide(NodeServices.layer))

describe("log/tensorboard", () => {
  it("masked CRC32C matches TensorFlow's definition on a known vector", () => {
    // crc32c("123456789") = 0xe3069283 (the CRC-32C check value)
    expect(crc32c(new TextEncoder().encode("123456789")) >>> 0).toBe(0xe3069283)
    expect(Tensorboard.maskedCrc32c(new TextEncoder().encode("123456789"))).toBe(mask(0xe3069283))
  })

  it.effect("writes a valid event file: version record, scalars, histograms; CRCs check", () =>
    Effect.gen(function*() {
      const bytes = yield* write([started, trainStep, evalEvent, scalar, hist])
      const recs = records(bytes).map(decode)
      expect(recs[0]!.file_version).toBe("brain.Event:2")
      // RunStarted has nothing for TensorBoard
      expect(recs).toHaveLength(5)
      const train = recs[1]!
      expect(train.step).toBe(50)
      const byTag = Object.fromEntries(train.summary!.value.map((v) => [v.tag, v.simple_value]))
      expect(byTag["train/loss"]).toBe(3.25)
      expect(byTag["train/lr"]).toBeCloseTo(1e-3, 9) // float32
      expect(byTag["train/tokens_per_sec"]).toBe(2000)
      expect(recs[2]!.summary!.value.map((v) => [v.tag, v.simple_value])).toEqual([["eval/loss", 2.5], ["eval/accuracy", 0.375]])
      // probe values are grouped under their probe (one TensorBoard section per probe)
      expect(recs[3]!.summary!.value[0]!.tag).toBe("magnitudes/magnitude-mean/layer1")
      expect(recs[3]!.summary!.value[0]!.simple_value).toBeCloseTo(0.1, 7)
      const h = recs[4]!.summary!.value[0]!
      expect(h.tag).toBe("magnitudes/magnitude/layer0")
      expect(recs[4]!.step).toBe(100)
      expect(h.histo!["bucket_limit"]).toEqual([1.5, 2.5, 3.5])
      expect(h.histo!["bucket"]).toEqual([1, 2, 3])
      expect(h.histo!["num"]).toBe(6)
      expect(h.histo!["min"]).toBe(0.5)
      expect(h.histo!["max"]).toBe(3.5)
      expect(h.histo!["sum"] as number).toBeCloseTo(14, 10)
      expect(h.histo!["sum_squares"] as number).toBeCloseTo(values.reduce((a, v) => a + v * v, 0), 10)
      // wall time comes from the event when it has one
      expect(recs[0]!.wall_time).toBeGreaterThan(1.7e9)
    }))

  it.effect("a corrupted byte is caught by the CRC check; histograms can be left out", () =>
    Effect.gen(function*() {
      const bytes = yield* write([trainStep, hist], { dir: "", histograms: false })
      expect(records(bytes)).toHaveLength(2) // version + train step, no histogram
      const bad = Uint8Array.from(bytes)
      bad[bad.length - 6]! ^= 0x01
      expect(() => records(bad)).toThrow(/bad data crc/)
    }))
})

describe("log/tensorboard tags", () => {
  it("the recycle count is the neurons actually recycled, not the requested k (threshold criteria choose fewer)", () => {
    const recycle = Event.Recycle.make({
      step: 10, stage: 0, layer: 1, criterion: "select/dormant", reinit: "reinit/initial", k: 51, indices: [3, 7],
      scores: [0, 0], magnitudeBefore: 1, magnitudeAfter: 1, key: "seed(1)/reinit/0/10", optimizerState: "zero-moments", shadow: []
    })
    expect(Tensorboard.valuesOf(recycle, { histograms: true })).toEqual([{ tag: "recycle/stage0/layer1", simple_value: 2 }])
  })

  it("probe scalars fall into a few top-level groups, one per probe", () => {
    const names = [
      ["probe/magnitudes", "magnitude-mean"], ["probe/magnitudes", "magnitude-std"],
      ["probe/activations", "dead-fraction"], ["probe/activations", "firing-rate-mean"],
      ["probe/activations", "magnitude-vs-firing-rate-pearson"], ["probe/recycle-counts", "recycled-fraction"],
      ["probe/recycle-counts", "recycle-count-mean"], ["midpoint-loss", "aux"], ["midpoint-loss", "center"]
    ] as const
    const tags = names.flatMap(([probe, name]) =>
      [0, 1].flatMap((layer) => Tensorboard.valuesOf(Event.Scalar.make({ step: 0, probe, name, layer, value: 1 }), { histograms: true }).map((v) => v.tag)))
    expect(new Set(tags.map((t) => t.split("/")[0]))).toEqual(new Set(["magnitudes", "activations", "recycle-counts", "midpoint-loss"]))
    expect(tags).toContain("activations/dead-fraction/layer1")
    expect(Tensorboard.probeTag("midpoint-loss", "aux", undefined)).toBe("midpoint-loss/aux")
  })
})

describe("log/tensorboard options", () => {
  it("the event folder stays inside the run folder", async () => {
    const { Schema } = await import("effect")
    const decode = Schema.decodeUnknownSync(Tensorboard.TensorboardOptions)
    expect(decode({})).toEqual({ dir: "", histograms: true })
    expect(decode({ dir: "tb/x" }).dir).toBe("tb/x")
    expect(() => decode({ dir: "../elsewhere" })).toThrow(/inside the run folder/)
    expect(() => decode({ dir: "/tmp" })).toThrow(/inside the run folder/)
  })
})
