/**
 * safetensors I/O (the HuggingFace weight format): an 8-byte little-endian header length N, N
 * bytes of JSON `{ name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__"?: {...} }`,
 * then the raw little-endian tensor bytes (offsets relative to the start of that data).
 *
 * The reader is defensive ({@link readLayout}, shared with `rekindle magnitudes`): the header
 * length is bounds-checked, every entry's dtype, shape and offsets are validated (in range, sized
 * to match the shape, the tensors tiling the data exactly), and any problem is a `UserError`
 * naming the tensor. Supported dtypes: F32, F16, BF16, I32. No npm
 * package for safetensors exists in the registry list, so this is a small hand reader; half
 * floats are converted with `@petamoriken/float16`.
 */
import { getFloat16, setFloat16 } from "@petamoriken/float16"
import { Bug, isUserError, type Params, UserError } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import { Effect } from "effect"

/** Element types this reader and writer understand. */
export type Dtype = "F32" | "F16" | "BF16" | "I32"

/** Supported dtypes with their sizes in bytes. */
export const dtypeSizes: Readonly<Record<Dtype, number>> = { F32: 4, F16: 2, BF16: 2, I32: 4 }

/**
 * One tensor. `data` holds F32 as Float32Array, I32 as Int32Array, F16/BF16 as their raw 16-bit
 * patterns (Uint16Array); `encode` also accepts a Float32Array for F16/BF16 and rounds it.
 */
export interface Entry {
  readonly dtype: Dtype
  readonly shape: ReadonlyArray<number>
  readonly data: Float32Array | Int32Array | Uint16Array
}

/** A decoded file: tensors by name, and the optional string metadata. */
export interface Decoded {
  readonly tensors: Record<string, Entry>
  readonly metadata: Record<string, string>
}

/** The largest header accepted (HuggingFace's reader uses the same 100 MB bound). */
export const maxHeaderBytes = 100_000_000

const metadataKey = "__metadata__"

const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

const numel = (shape: ReadonlyArray<number>): number => shape.reduce((a, b) => a * b, 1)

const isDtype = (s: unknown): s is Dtype => typeof s === "string" && Object.hasOwn(dtypeSizes, s)

const fail = (path: string, message: string): never => {
  throw new UserError({ message: `safetensors: ${path}: ${message}`, problems: [{ path, message }] })
}

// ---------------------------------------------------------------------------------------------
// half floats

/** F16 bit patterns to float32. */
export const f16ToFloat32 = (bits: Uint16Array): Float32Array => {
  const view = new DataView(bits.buffer, bits.byteOffset, bits.byteLength)
  const out = new Float32Array(bits.length)
  for (let i = 0; i < bits.length; i++) out[i] = getFloat16(view, 2 * i, littleEndianHost)
  return out
}

/** float32 to F16 bit patterns (round to nearest even). */
export const float32ToF16 = (values: Float32Array): Uint16Array => {
  const out = new Uint16Array(values.length)
  const view = new DataView(out.buffer)
  for (let i = 0; i < values.length; i++) setFloat16(view, 2 * i, values[i]!, littleEndianHost)
  return out
}

/** BF16 bit patterns to float32 (exact: bf16 is the top half of a float32). */
export const bf16ToFloat32 = (bits: Uint16Array): Float32Array => {
  const out = new Uint32Array(bits.length)
  for (let i = 0; i < bits.length; i++) out[i] = bits[i]! << 16
  return new Float32Array(out.buffer)
}

/** float32 to BF16 bit patterns (round to nearest even; NaN stays NaN). */
export const float32ToBf16 = (values: Float32Array): Uint16Array => {
  const u = new Uint32Array(values.buffer, values.byteOffset, values.length)
  const out = new Uint16Array(values.length)
  for (let i = 0; i < values.length; i++) {
    const x = u[i]!
    if ((x & 0x7f800000) === 0x7f800000 && (x & 0x007fffff) !== 0) out[i] = (x >>> 16) | 0x0040
    else out[i] = ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff
  }
  return out
}

/** An entry's values as float32 (F16/BF16 converted, I32 cast). */
export const toFloat32 = (e: Entry): Float32Array => {
  switch (e.dtype) {
    case "F32":
      return e.data as Float32Array
    case "F16":
      return e.data instanceof Float32Array ? e.data : f16ToFloat32(e.data as Uint16Array)
    case "BF16":
      return e.data instanceof Float32Array ? e.data : bf16ToFloat32(e.data as Uint16Array)
    case "I32":
      return Float32Array.from(e.data)
  }
}

// ---------------------------------------------------------------------------------------------
// encode

const bytesOf = (name: string, e: Entry): Uint8Array => {
  if (!isDtype(e.dtype)) throw new Bug(`safetensors: tensor "${name}": unsupported dtype "${String(e.dtype)}"`)
  const n = numel(e.shape)
  if (e.data.length !== n) {
    throw new Bug(`safetensors: tensor "${name}": ${e.data.length} values for shape [${e.shape.join(", ")}] (${n} expected)`)
  }
  let data: Float32Array | Int32Array | Uint16Array = e.data
  if (e.dtype === "F32" && !(data instanceof Float32Array)) throw new Bug(`safetensors: tensor "${name}": F32 data must be a Float32Array`)
  if (e.dtype === "I32" && !(data instanceof Int32Array)) throw new Bug(`safetensors: tensor "${name}": I32 data must be an Int32Array`)
  if (e.dtype === "F16" && data instanceof Float32Array) data = float32ToF16(data)
  if (e.dtype === "BF16" && data instanceof Float32Array) data = float32ToBf16(data)
  if ((e.dtype === "F16" || e.dtype === "BF16") && !(data instanceof Uint16Array)) {
    throw new Bug(`safetensors: tensor "${name}": ${e.dtype} data must be a Uint16Array or Float32Array`)
  }
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  if (littleEndianHost) return bytes
  const out = new Uint8Array(bytes.length)
  const size = dtypeSizes[e.dtype]
  for (let i = 0; i < bytes.length; i += size) for (let j = 0; j < size; j++) out[i + j] = bytes[i + size - 1 - j]!
  return out
}

/** Serialises tensors (written in name order) and optional string metadata to safetensors bytes. */
export const encode = (tensors: Readonly<Record<string, Entry>>, metadata?: Readonly<Record<string, string>>): Uint8Array => {
  const names = Object.keys(tensors).sort()
  const header: Record<string, unknown> = {}
  if (metadata !== undefined && Object.keys(metadata).length > 0) header[metadataKey] = metadata
  const chunks: Array<Uint8Array> = []
  let offset = 0
  for (const name of names) {
    if (name === metadataKey) throw new Bug(`safetensors: "${metadataKey}" is reserved and cannot name a tensor`)
    const e = tensors[name]!
    const bytes = bytesOf(name, e)
    header[name] = { dtype: e.dtype, shape: [...e.shape], data_offsets: [offset, offset + bytes.length] }
    chunks.push(bytes)
    offset += bytes.length
  }
  let json = JSON.stringify(header)
  const headerBytes0 = new TextEncoder().encode(json)
  const pad = (8 - (headerBytes0.length % 8)) % 8
  json += " ".repeat(pad)
  const headerBytes = new TextEncoder().encode(json)
  const out = new Uint8Array(8 + headerBytes.length + offset)
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true)
  out.set(headerBytes, 8)
  let at = 8 + headerBytes.length
  for (const c of chunks) {
    out.set(c, at)
    at += c.length
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// decode

/**
 * Bytes per element of every dtype of the safetensors format. A header may name any of them (a
 * HuggingFace file holds I64 position ids, BOOL masks); only {@link dtypeSizes} can be decoded.
 */
export const formatDtypeSizes: Readonly<Record<string, number>> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, F8_E8M0: 1, I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8
}

/** One tensor's place in a safetensors file. */
export interface TensorInfo {
  readonly name: string
  readonly dtype: string
  readonly shape: ReadonlyArray<number>
  /** Absolute byte offsets in the file. */
  readonly begin: number
  readonly end: number
}

/** A validated header: every tensor's place, and the string metadata. */
export interface Layout {
  /** Tensors in header order. */
  readonly tensors: ReadonlyMap<string, TensorInfo>
  readonly metadata: Readonly<Record<string, string>>
}

const isIndex = (x: unknown): x is number => typeof x === "number" && Number.isSafeInteger(x) && x >= 0

const placeEntry = (name: string, raw: unknown, dataLength: number, dtypes: Readonly<Record<string, number>>): Omit<TensorInfo, "name"> => {
  const path = `tensor "${name}"`
  // JSON.parse keeps "__proto__" as a key; stored into a plain object it would replace the prototype instead
  if (name === "__proto__") return fail(path, "is not an allowed tensor name")
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return fail(path, "entry must be an object with dtype, shape and data_offsets")
  const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>
  if (typeof dtype !== "string" || !Object.hasOwn(dtypes, dtype)) {
    return fail(path, `unsupported dtype ${JSON.stringify(dtype)} (supported: ${Object.keys(dtypes).join(", ")})`)
  }
  if (!Array.isArray(shape) || !shape.every(isIndex)) return fail(path, `shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`)
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex)) {
    return fail(path, `data_offsets must be [begin, end] non-negative integers, got ${JSON.stringify(offsets)}`)
  }
  const [begin, end] = offsets as [number, number]
  if (begin > end) return fail(path, `data_offsets [${begin}, ${end}] run backwards`)
  if (end > dataLength) return fail(path, `data_offsets [${begin}, ${end}] exceed the ${dataLength} data bytes (file truncated?)`)
  const expected = numel(shape) * dtypes[dtype]!
  if (!Number.isSafeInteger(expected) || end - begin !== expected) {
    return fail(path, `holds ${end - begin} bytes but ${dtype}[${shape.join(", ")}] needs ${expected}`)
  }
  return { dtype, shape: shape as Array<number>, begin, end }
}

/**
 * Reads and validates a safetensors header through `read(position, length)` from a file of `size`
 * bytes: the one set of checks for checkpoints and for `rekindle magnitudes`. The header length
 * is bounded by the file and {@link maxHeaderBytes}; the header is UTF-8 JSON of an object;
 * metadata values are strings; every tensor has a known dtype (`dtypes`, default every dtype of
 * the format), a shape, offsets in range sized to match; no tensor is named `__proto__`; and the
 * tensors tile the data region exactly: no overlap, no gap, no unindexed bytes after the last.
 * Throws a `UserError` naming the field (`header`, `__metadata__.k`, `tensor "name"`).
 */
export const readLayout = (
  size: number,
  read: (position: number, length: number) => Uint8Array,
  dtypes: Readonly<Record<string, number>> = formatDtypeSizes
): Layout => {
  if (size < 8) fail("header", `file is ${size} bytes, shorter than the 8-byte header length`)
  const first = read(0, 8)
  const n = new DataView(first.buffer, first.byteOffset, 8).getBigUint64(0, true)
  if (n > BigInt(size - 8)) fail("header", `header length ${n} exceeds the ${size - 8} bytes after it (not a safetensors file, or truncated)`)
  if (n > BigInt(maxHeaderBytes)) fail("header", `header length ${n} exceeds the ${maxHeaderBytes}-byte limit`)
  const length = Number(n)
  let text = ""
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(read(8, length))
  } catch {
    fail("header", "header is not valid UTF-8")
  }
  let header: unknown
  try {
    header = JSON.parse(text)
  } catch (e) {
    fail("header", `header is not valid JSON (${e instanceof Error ? e.message : String(e)})`)
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) fail("header", "header must be a JSON object")
  const dataStart = 8 + length
  const dataLength = size - dataStart
  const metadata: Record<string, string> = {}
  const tensors = new Map<string, TensorInfo>()
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === metadataKey) {
      if (typeof raw !== "object" || raw === null || Array.isArray(raw)) fail(metadataKey, "must be an object of strings")
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (k === "__proto__") fail(`${metadataKey}.${k}`, "is not an allowed key")
        if (typeof v !== "string") fail(`${metadataKey}.${k}`, `must be a string, got ${JSON.stringify(v)}`)
        metadata[k] = v as string
      }
      continue
    }
    const placed = placeEntry(name, raw, dataLength, dtypes)
    tensors.set(name, { name, ...placed, begin: dataStart + placed.begin, end: dataStart + placed.end })
  }
  const byOffset = [...tensors.values()].sort((a, b) => a.begin - b.begin || a.end - b.end)
  let at = dataStart
  let previous: TensorInfo | undefined
  for (const cur of byOffset) {
    const offsets = `[${cur.begin - dataStart}, ${cur.end - dataStart}]`
    if (cur.begin < at && previous !== undefined) {
      fail(`tensor "${cur.name}"`, `data_offsets ${offsets} overlaps tensor "${previous.name}" [${previous.begin - dataStart}, ${previous.end - dataStart}]`)
    }
    if (cur.begin > at) fail(`tensor "${cur.name}"`, `data_offsets ${offsets} leave ${cur.begin - at} bytes before it that no tensor indexes`)
    at = cur.end
    previous = cur
  }
  if (at < size) fail("data", `${size - at} bytes after the last tensor are not indexed by the header (a corrupt or tampered file)`)
  return { tensors, metadata }
}

const readData = (bytes: Uint8Array, p: TensorInfo): Float32Array | Int32Array | Uint16Array => {
  const size = dtypeSizes[p.dtype as Dtype]
  // an explicit copy: on a Node Buffer (what fs.readFile returns) `slice` is a view into a shared,
  // offset pool, and the typed arrays below would read the wrong bytes
  const copy = new Uint8Array(p.end - p.begin)
  copy.set(bytes.subarray(p.begin, p.end))
  if (!littleEndianHost) {
    for (let i = 0; i < copy.length; i += size) copy.subarray(i, i + size).reverse()
  }
  const count = (p.end - p.begin) / size
  switch (p.dtype as Dtype) {
    case "F32":
      return new Float32Array(copy.buffer, 0, count)
    case "I32":
      return new Int32Array(copy.buffer, 0, count)
    case "F16":
    case "BF16":
      return new Uint16Array(copy.buffer, 0, count)
  }
}

/** Parses safetensors bytes, validating everything ({@link readLayout}); throws a `UserError` naming the bad field. */
export const decode = (bytes: Uint8Array): Decoded => {
  const layout = readLayout(bytes.length, (p, l) => bytes.subarray(p, p + l), dtypeSizes)
  const tensors: Record<string, Entry> = {}
  for (const p of layout.tensors.values()) tensors[p.name] = { dtype: p.dtype as Dtype, shape: p.shape, data: readData(bytes, p) }
  return { tensors, metadata: { ...layout.metadata } }
}

/** `decode` as an Effect failing with the `UserError`. */
export const decodeEffect = (bytes: Uint8Array): Effect.Effect<Decoded, UserError> =>
  Effect.try({
    try: () => decode(bytes),
    catch: (e) => (isUserError(e) ? e : new UserError({ message: `safetensors: ${String(e)}` }))
  })

// ---------------------------------------------------------------------------------------------
// tensors

/** Reads parameters back from the device as F32 (float tensors) or I32 (int tensors) entries. */
export const fromTensors = (params: Params.ParamMap): Record<string, Entry> => {
  const out: Record<string, Entry> = {}
  for (const [name, t] of Object.entries(params)) {
    if (t.dtype === "int32") out[name] = { dtype: "I32", shape: t.shape, data: t.dataSync() as Int32Array }
    else if (t.dtype === "float32") out[name] = { dtype: "F32", shape: t.shape, data: t.dataSync() as Float32Array }
    else throw new Bug(`safetensors: tensor "${name}": cannot store dtype ${t.dtype}`)
  }
  return out
}

/** Entries as tensors on the current backend: I32 as int32, every float dtype as float32. Caller disposes. */
export const toTensors = (entries: Readonly<Record<string, Entry>>): Record<string, tf.Tensor> => {
  const out: Record<string, tf.Tensor> = {}
  for (const [name, e] of Object.entries(entries)) {
    out[name] = e.dtype === "I32"
      ? tf.tensor(e.data as Int32Array, [...e.shape], "int32")
      : tf.tensor(toFloat32(e), [...e.shape], "float32")
  }
  return out
}
