/**
 * Property tests (fast-check) of the readers that take untrusted bytes or values:
 * - the safetensors reader: arbitrary bytes, and well-framed files with hostile headers (huge
 *   lengths, unknown dtypes, negative/fractional/huge shapes, offsets out of range, backwards or
 *   overlapping) either decode into tensors that are exactly in bounds or fail with a UserError,
 *   never anything else; encode -> decode round-trips, also from a pooled Node Buffer;
 * - checkpoint files: any single-byte change or truncation is refused (or, for a change the
 *   format ignores, decodes to exactly the same checkpoint);
 * - the pipeline decoder: mutated pipelines and arbitrary JSON compile or fail with a UserError,
 *   never with a defect.
 */
import { UserError } from "@rekindle/core"
import { Safetensors } from "@rekindle/model"
import { builtins } from "@rekindle/builtins"
import { Compile, Registry } from "@rekindle/pipeline"
import { Checkpoint } from "@rekindle/run"
import { Cause, Effect, Exit } from "effect"
import fc from "fast-check"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { tinyProject } from "./harness.ts"

// Fixed seed by default so the shared suite is deterministic; REKINDLE_FUZZ_SEED=<n> explores others
// (fast-check prints the seed and path of any counterexample).
fc.configureGlobal({ seed: Number(process.env.REKINDLE_FUZZ_SEED ?? 20261124) })

const dtypes = ["F32", "F16", "BF16", "I32"] as const
const sizes = { F32: 4, F16: 2, BF16: 2, I32: 4 } as const
const frame = (header: string, data: Uint8Array, lengthOverride?: bigint) => {
  const h = new TextEncoder().encode(header)
  const out = new Uint8Array(8 + h.length + data.length)
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(h.length), true)
  out.set(h, 8)
  out.set(data, 8 + h.length)
  return out
}

/** Decodes, returning the result or the thrown value; anything but a UserError fails the property. */
const attempt = (bytes: Uint8Array) => {
  try {
    return { ok: Safetensors.decode(bytes) } as const
  } catch (e) {
    if (!(e instanceof UserError)) throw new Error(`not a UserError: ${String(e)}`)
    expect(e.message.startsWith("safetensors: ")).toBe(true)
    return { error: e } as const
  }
}

const numel = (shape: ReadonlyArray<number>) => shape.reduce((a, b) => a * b, 1)

describe("safetensors reader (property)", () => {
  it("arbitrary bytes never escape as anything but a UserError", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => void attempt(bytes)), { numRuns: 500 })
  })

  it("hostile headers: decoded tensors are exactly in bounds and never overlap, or a UserError names the problem", () => {
    let decoded = 0
    // mostly well-formed files (tensors laid out back to back), then 0-2 hostile edits
    const layout = fc.array(fc.record({ dtype: fc.constantFrom(...dtypes), shape: fc.array(fc.nat(3), { maxLength: 3 }) }), { maxLength: 3 })
    const hostile = fc.oneof(
      fc.record({ kind: fc.constant("dtype" as const), v: fc.oneof(fc.string({ maxLength: 4 }), fc.constant(null), fc.constant("F64")) }),
      fc.record({ kind: fc.constant("dim" as const), v: fc.oneof(fc.integer({ min: -3, max: -1 }), fc.double(), fc.constant(2 ** 53), fc.constant(1e300), fc.constant(2 ** 31)) }),
      fc.record({ kind: fc.constant("shift" as const), v: fc.integer({ min: -8, max: 8 }) }),
      fc.record({ kind: fc.constant("swap" as const), v: fc.constant(0) }),
      fc.record({ kind: fc.constant("overlap" as const), v: fc.constant(0) }),
      fc.record({ kind: fc.constant("offsets" as const), v: fc.oneof(fc.jsonValue({ maxDepth: 1 }), fc.array(fc.integer({ min: -5, max: 300 }), { maxLength: 3 })) }),
      fc.record({ kind: fc.constant("name" as const), v: fc.constantFrom("__metadata__", "__proto__", "constructor", "") })
    )
    const header = fc.tuple(layout, fc.array(fc.tuple(fc.nat(2), hostile), { maxLength: 2 }), fc.integer({ min: -4, max: 4 })).map(([ts, edits, slack]) => {
      const h: Record<string, any> = {}
      const names: Array<string> = []
      let offset = 0
      ts.forEach((t, i) => {
        const bytes = numel(t.shape) * sizes[t.dtype]
        h[`t${i}`] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes] }
        names.push(`t${i}`)
        offset += bytes
      })
      for (const [which, e] of edits) {
        const index = which % Math.max(1, names.length)
        const name = names[index]
        const t = name === undefined ? undefined : h[name]
        if (name === undefined || t === undefined) continue
        if (e.kind === "dtype") t.dtype = e.v
        else if (e.kind === "dim") t.shape = [...t.shape, e.v]
        else if (e.kind === "shift" && Array.isArray(t.data_offsets)) t.data_offsets = t.data_offsets.map((x: unknown) => (x as number) + e.v)
        else if (e.kind === "swap" && Array.isArray(t.data_offsets)) t.data_offsets = [...t.data_offsets].reverse()
        else if (e.kind === "overlap" && names.length > 1) t.data_offsets = h[names[0]!].data_offsets
        else if (e.kind === "offsets") t.data_offsets = e.v
        else if (e.kind === "name") {
          delete h[name]
          Object.defineProperty(h, e.v, { value: t, enumerable: true, configurable: true, writable: true })
          names[index] = e.v
        }
      }
      return { h, dataLength: Math.max(0, offset + slack) }
    })
    const length = fc.option(fc.oneof(fc.bigInt({ min: 0n, max: 300n }), fc.constant(2n ** 63n), fc.constant(2n ** 64n - 1n)), { nil: undefined, freq: 5 })
    fc.assert(
      fc.property(header, fc.uint8Array({ minLength: 300, maxLength: 300 }), length, ({ h, dataLength }, pool, len) => {
        const data = pool.subarray(0, dataLength)
        const bytes = frame(JSON.stringify(h), data, len)
        // every other file as a pooled Node Buffer (what fs.readFile returns), which once read the wrong bytes
        const r = attempt(pool[0]! % 2 === 0 ? bytes : Buffer.from(bytes))
        if ("error" in r) return
        decoded += Object.keys(r.ok.tensors).length > 0 ? 1 : 0
        const spans: Array<[number, number]> = []
        for (const [, t] of Object.entries(r.ok.tensors)) {
          expect(dtypes).toContain(t.dtype)
          expect(t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)).toBe(true)
          expect(t.data.length).toBe(numel(t.shape))
          expect(t.data.byteLength).toBe(numel(t.shape) * sizes[t.dtype])
        }
        // with an overridden header length the reader sees another header/data split (say, a data byte
        // read as trailing JSON whitespace): only the structural checks above apply then
        if (len !== undefined) return
        for (const [name, raw] of Object.entries(h as Record<string, { data_offsets: [number, number] }>)) {
          const t = r.ok.tensors[name]
          if (name === "__metadata__" || t === undefined) continue
          spans.push(raw.data_offsets)
          // the tensor holds exactly its own bytes
          const [begin, end] = raw.data_offsets
          expect(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).equals(Buffer.from(data.subarray(begin, end)))).toBe(true)
        }
        // non-empty spans never overlap (an empty tensor occupies no bytes wherever it points)
        const filled = spans.filter(([b, e]) => e > b).sort((a, b) => a[0] - b[0])
        for (let i = 1; i < filled.length; i++) expect(filled[i]![0]).toBeGreaterThanOrEqual(filled[i - 1]![1])
        for (const [, end] of spans) expect(end).toBeLessThanOrEqual(data.length)
      }),
      { numRuns: 1000 }
    )
    // the generator reaches the success path too (tensors that fit), not only rejections
    expect(decoded).toBeGreaterThan(10)
  })

  it("a tensor or metadata key named __proto__ is refused (it would replace the result's prototype and vanish)", () => {
    const entry = '{"dtype":"F32","shape":[1],"data_offsets":[0,4]}'
    const t = attempt(frame(`{"__proto__":${entry}}`, new Uint8Array(4)))
    expect("error" in t && t.error.message).toContain('tensor "__proto__": is not an allowed tensor name')
    const m = attempt(frame(`{"__metadata__":{"__proto__":"x"},"w":${entry}}`, new Uint8Array(4)))
    expect("error" in m && m.error.message).toContain("__metadata__.__proto__: is not an allowed key")
  })

  it("encode -> decode round-trips exactly, also from a pooled Node Buffer (fs.readFile's kind)", () => {
    const tensor = fc.constantFrom(...dtypes).chain((dtype) =>
      fc.array(fc.nat(4), { maxLength: 3 }).chain((shape) => {
        const n = numel(shape)
        const data = dtype === "F32"
          ? fc.float32Array({ minLength: n, maxLength: n }).map((a) => a as Float32Array | Int32Array | Uint16Array)
          : dtype === "I32"
          ? fc.int32Array({ minLength: n, maxLength: n })
          : fc.uint16Array({ minLength: n, maxLength: n })
        return data.map((d) => ({ dtype, shape, data: d }) as Safetensors.Entry)
      })
    )
    const name = fc.string({ minLength: 1, maxLength: 8 }).filter((s) => s !== "__metadata__")
    fc.assert(
      fc.property(fc.dictionary(name, tensor, { maxKeys: 5 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 8 }), { maxKeys: 2 }), (tensors, metadata) => {
        const bytes = Safetensors.encode(tensors, metadata)
        for (const input of [bytes, Buffer.from(bytes)]) {
          const d = Safetensors.decode(input)
          expect(Object.keys(d.tensors).sort()).toEqual(Object.keys(tensors).sort())
          for (const [k, t] of Object.entries(tensors)) {
            const got = d.tensors[k]!
            expect(got.dtype).toBe(t.dtype)
            expect(got.shape).toEqual(t.shape)
            expect(Buffer.from(got.data.buffer, got.data.byteOffset, got.data.byteLength).equals(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength))).toBe(true)
          }
          expect(d.metadata).toEqual(Object.keys(metadata).length > 0 ? metadata : {})
        }
      }),
      { numRuns: 300 }
    )
  })
})

describe("checkpoint files (property)", () => {
  const entries: Record<string, Safetensors.Entry> = {
    "param/w": { dtype: "F32", shape: [3, 2], data: Float32Array.from([1, -2, 3.5, 0, 1e-3, 7]) },
    "opt/adam.mu/w": { dtype: "F32", shape: [3, 2], data: Float32Array.from([0, 0.1, 0, 0.2, 0, 0.3]) },
    "hook/recycling/blend.0.oldWin": { dtype: "F32", shape: [2], data: Float32Array.from([4, 5]) }
  }
  const stateText = JSON.stringify({
    format: Checkpoint.format, step: 12, seed: 3, pipelineHash: "abcd", reason: "scheduled", time: "t", events: 9,
    stream: { epoch: 1, index: 4 }, optimizer: { count: 12, slots: ["adam.mu"] },
    trainer: { windowLosses: [2.5, "NaN"], windowTokens: 64, lastLoss: 2.25, lastEval: 3, lastEvalStep: 10 },
    hooks: { recycling: { version: 1 } }, rng: { seed: 3, step: 12 }
  })
  const good = Safetensors.encode(entries, { "rekindle.state": stateText, "rekindle.sha256": Checkpoint.digest(stateText, entries) })
  const decode = (bytes: Uint8Array) => Effect.runSyncExit(Checkpoint.decode(bytes, "c.safetensors"))
  const reference = decode(good)

  it("the untouched file decodes", () => {
    expect(Exit.isSuccess(reference)).toBe(true)
  })

  it("any single-byte change or truncation is refused with a UserError, or decodes to the very same checkpoint", () => {
    const ref = Exit.isSuccess(reference) ? reference.value : undefined
    fc.assert(
      fc.property(fc.nat(good.length - 1), fc.integer({ min: 1, max: 255 }), fc.boolean(), (at, xor, truncate) => {
        const bytes = truncate ? good.subarray(0, at) : good.slice()
        if (!truncate) bytes[at]! ^= xor
        const exit = decode(bytes)
        if (Exit.isFailure(exit)) {
          const e = Cause.squash(exit.cause)
          expect(e).toBeInstanceOf(UserError)
          expect((e as UserError).message).toContain("checkpoint c.safetensors: ")
          return
        }
        // only a change the format ignores (header padding whitespace) may pass, and then nothing differs
        expect(exit.value.state).toEqual(ref!.state)
        for (const [k, e] of Object.entries(ref!.entries)) expect(Array.from(exit.value.entries[k]!.data)).toEqual(Array.from(e.data))
      }),
      { numRuns: 1500 }
    )
  })
})

describe("pipeline decoder (property)", () => {
  const registry = Effect.runSync(Registry.make(builtins))
  const { pipeline } = tinyProject(path.join(os.tmpdir(), "rekindle-fuzz-pipeline"), { steps: 10 })
  const paths = [
    "name", "seed", "backend", "data", "data.corpus", "data.corpus.kind", "data.tokenizer", "data.tokenizer.kind", "data.objective",
    "data.masking.prob", "data.evalFraction", "model", "model.dModel", "model.heads", "model.layers", "model.dFF", "model.seqLen",
    "model.vocabSize", "model.activation", "optimizer", "optimizer.use", "optimizer.lr", "optimizer.schedule", "train", "train.steps",
    "train.batchSize", "train.checkpointEvery", "train.logEvery", "recycling", "recycling.0", "recycling.0.schedule.every",
    "recycling.0.select", "recycling.0.select.use", "recycling.0.select.fraction", "recycling.0.reinit.steps", "recycling.0.immunity",
    "recycling.0.shadow", "recycling.0.optimizerState", "log", "log.0.use", "probes", "unknownKey", "model.__proto__"
  ]
  const setPath = (value: unknown, p: string, v: unknown): unknown => {
    const [head, ...rest] = p.split(".")
    const base: any = Array.isArray(value) ? [...value] : value !== null && typeof value === "object" ? { ...value } : {}
    base[head!] = rest.length === 0 ? v : setPath(base[head!], rest.join("."), v)
    if (v === undefined && rest.length === 0) delete base[head!]
    return base
  }
  const compileExit = (input: unknown) => Effect.runSyncExit(Compile.compile(registry, input))
  const noDefect = (exit: Exit.Exit<unknown, unknown>) => {
    if (Exit.isSuccess(exit)) return
    expect(Cause.hasDies(exit.cause), String(exit.cause)).toBe(false)
    expect(Cause.squash(exit.cause)).toBeInstanceOf(UserError)
  }

  it("the unmutated pipeline compiles", () => {
    expect(Exit.isSuccess(compileExit(pipeline))).toBe(true)
  })

  it("mutated pipelines compile or fail with a UserError, never a defect", () => {
    const value = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(undefined), fc.constantFrom(-1, 0, 1e308, Number.NaN, "", "optim/nope", [], {}))
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...paths), value), { minLength: 1, maxLength: 3 }), (edits) => {
        const input = edits.reduce((p, [k, v]) => setPath(p, k, v), pipeline as unknown)
        noDefect(compileExit(input))
      }),
      { numRuns: 400 }
    )
  })

  it("arbitrary JSON at the top level fails with a UserError, never a defect", () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => noDefect(compileExit(v))), { numRuns: 300 })
  })
})
