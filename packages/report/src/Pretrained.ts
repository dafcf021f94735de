/**
 * FF neuron magnitudes of a checkpoint on disk (HuggingFace safetensors, or rekindle's own
 * checkpoints): M_i = ‖W_in[:, i]‖₂ · ‖W_out[i, :]‖₂ for every FF neuron of every layer.
 *
 * The file is read lazily: the header is read and validated with the checkpoint reader's checks
 * (`Safetensors.readLayout`: length bounded by the file and 100 MB; every entry's dtype, shape and
 * `data_offsets` checked against the data region, sizes checked, the tensors tiling the data with
 * no overlap, gap or unindexed trailing bytes; no `__proto__` name), then only the FF weights are
 * read, one tensor at a time,
 * so multi-GB checkpoints need little memory. Other tensors may have any dtype (I64 position ids,
 * BOOL masks); FF weights must be F32, F16 or BF16, anything else is a UserError naming the tensor.
 *
 * Layouts (neuron i of the hidden layer):
 * - BERT (`*.encoder.layer.N.intermediate.dense.weight` / `*.encoder.layer.N.output.dense.weight`):
 *   torch `nn.Linear` weights are `[out, in]`, so W_in is `[dFF, dModel]` (neuron = row) and
 *   W_out is `[dModel, dFF]` (neuron = column).
 * - T5 (`*.block.N.layer.M.DenseReluDense.wi.weight` / `wo.weight`, encoder then decoder): Linear,
 *   as BERT; gated variants (T5 v1.1, `wi_0` + `wi_1`) use the norm of both input rows together.
 * - GPT-2 (`*h.N.mlp.c_fc.weight` / `*h.N.mlp.c_proj.weight`): `Conv1D` stores `[in, out]`, so W_in
 *   is `[dModel, dFF]` (neuron = column) and W_out `[dFF, dModel]` (neuron = row).
 * - rekindle (`layers.N.ff.win` / `layers.N.ff.wout`, or `param/…` in a checkpoint): as GPT-2.
 */
import { isUserError, Stats, UserError } from "@rekindle/core"
import { Safetensors } from "@rekindle/model"
import * as nodeFs from "node:fs"

import { type Arch, archs } from "./Archs.ts"

export { type Arch, archs }

/** One tensor's place in the file. */
export type TensorInfo = Safetensors.TensorInfo

/** A validated safetensors header. */
export interface Index {
  readonly file: string
  readonly size: number
  readonly tensors: ReadonlyMap<string, TensorInfo>
  readonly metadata: Readonly<Record<string, string>>
}

const fail = (file: string, path: string, message: string): never => {
  throw new UserError({ message: `${file}: ${path}: ${message}`, problems: [{ path, message }] })
}

const readAt = (fd: number, position: number, length: number): Uint8Array => {
  const out = new Uint8Array(length)
  let done = 0
  while (done < length) {
    const n = nodeFs.readSync(fd, out, done, length - done, position + done)
    if (n === 0) break
    done += n
  }
  if (done !== length) throw new Error(`short read: ${done} of ${length} bytes at ${position}`)
  return out
}

const withFile = <A>(file: string, f: (fd: number, size: number) => A): A => {
  let fd: number
  try {
    fd = nodeFs.openSync(file, "r")
  } catch (e) {
    const code = (e as { code?: string }).code
    throw new UserError({ message: code === "ENOENT" ? `${file}: no such file` : `${file}: cannot open (${code ?? String(e)})` })
  }
  try {
    const size = nodeFs.fstatSync(fd).size
    return f(fd, size)
  } finally {
    nodeFs.closeSync(fd)
  }
}

/**
 * Reads and validates the header of a safetensors file (no tensor data is read) with the same
 * checks as the checkpoint reader (`Safetensors.readLayout`); a problem names the file and field.
 */
export const readIndex = (file: string): Index =>
  withFile(file, (fd, size) => {
    try {
      const layout = Safetensors.readLayout(size, (position, length) => readAt(fd, position, length))
      return { file, size, tensors: layout.tensors, metadata: layout.metadata }
    } catch (e) {
      if (!isUserError(e)) throw e
      throw new UserError({ message: `${file}: ${e.message.replace(/^safetensors: /, "")}`, ...(e.problems !== undefined ? { problems: e.problems } : {}) })
    }
  })

/** Reads one tensor as float32 (F32, F16 or BF16; any other dtype is a UserError naming the tensor). */
export const readFloat32 = (index: Index, name: string): Float32Array => {
  const t = index.tensors.get(name)
  if (t === undefined) return fail(index.file, `tensor "${name}"`, "not in the file")
  if (t.dtype !== "F32" && t.dtype !== "F16" && t.dtype !== "BF16") {
    return fail(index.file, `tensor "${name}"`, `dtype ${t.dtype} is not supported for FF weights (supported: F32, F16, BF16)`)
  }
  const bytes = withFile(index.file, (fd) => readAt(fd, t.begin, t.end - t.begin))
  const count = (t.end - t.begin) / Safetensors.formatDtypeSizes[t.dtype]!
  const view = new DataView(bytes.buffer)
  if (t.dtype === "F32") {
    const out = new Float32Array(count)
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true)
    return out
  }
  const bits = new Uint16Array(count)
  for (let i = 0; i < count; i++) bits[i] = view.getUint16(2 * i, true)
  return t.dtype === "F16" ? Safetensors.f16ToFloat32(bits) : Safetensors.bf16ToFloat32(bits)
}

/** A weight matrix and the axis along which index i belongs to neuron i. */
export interface NeuronMatrix {
  readonly name: string
  readonly neuronAxis: 0 | 1
}

/** One FF layer of a checkpoint. */
export interface FFLayer {
  /** Position in the report (encoder layers first for T5). */
  readonly index: number
  readonly label: string
  /** W_in (and, for gated FFs, the second input matrix). */
  readonly inputs: ReadonlyArray<NeuronMatrix>
  readonly output: NeuronMatrix
}

interface Pattern {
  /** Matches a W_in / W_out tensor name; groups: prefix, layer key parts, role. */
  readonly re: RegExp
  readonly role: (m: RegExpMatchArray) => "in" | "gate" | "out"
  readonly key: (m: RegExpMatchArray) => { readonly prefix: string; readonly order: [number, number]; readonly label: string }
  readonly axis: { readonly in: 0 | 1; readonly out: 0 | 1 }
  readonly example: string
}

const patterns: Record<Arch, Pattern> = {
  bert: {
    re: /^(.*?)encoder\.layer\.(\d+)\.(intermediate|output)\.dense\.weight$/,
    role: (m) => (m[3] === "intermediate" ? "in" : "out"),
    key: (m) => ({ prefix: m[1]!, order: [0, Number(m[2])], label: `layer ${m[2]}` }),
    axis: { in: 0, out: 1 },
    example: "encoder.layer.0.intermediate.dense.weight"
  },
  t5: {
    re: /^(.*?)(encoder|decoder)\.block\.(\d+)\.layer\.\d+\.DenseReluDense\.(wi|wi_0|wi_1|wo)\.weight$/,
    role: (m) => (m[4] === "wo" ? "out" : m[4] === "wi_1" ? "gate" : "in"),
    key: (m) => ({ prefix: m[1]!, order: [m[2] === "encoder" ? 0 : 1, Number(m[3])], label: `${m[2]} ${m[3]}` }),
    axis: { in: 0, out: 1 },
    example: "encoder.block.0.layer.1.DenseReluDense.wi.weight"
  },
  gpt2: {
    re: /^(.*?)h\.(\d+)\.mlp\.(c_fc|c_proj)\.weight$/,
    role: (m) => (m[3] === "c_fc" ? "in" : "out"),
    key: (m) => ({ prefix: m[1]!, order: [0, Number(m[2])], label: `h.${m[2]}` }),
    axis: { in: 1, out: 0 },
    example: "h.0.mlp.c_fc.weight"
  },
  rekindle: {
    re: /^(.*?)layers\.(\d+)\.ff\.(win|wout)$/,
    role: (m) => (m[3] === "win" ? "in" : "out"),
    key: (m) => ({ prefix: m[1]!, order: [0, Number(m[2])], label: `layers.${m[2]}` }),
    axis: { in: 1, out: 0 },
    example: "layers.0.ff.win"
  }
}

/** Free prefixes preferred when several hold FF weights (rekindle checkpoints keep weights under `param/`). */
const preferredPrefixes = ["", "param/"]

/** Candidate FF tensors of an arch, grouped by free prefix. */
const candidates = (index: Index, arch: Arch) => {
  const p = patterns[arch]
  const byPrefix = new Map<string, Map<string, { order: [number, number]; label: string; in: Array<string>; gate?: string; out?: string }>>()
  for (const name of index.tensors.keys()) {
    const m = name.match(p.re)
    if (m === null) continue
    const k = p.key(m)
    const layers = byPrefix.get(k.prefix) ?? new Map()
    byPrefix.set(k.prefix, layers)
    const id = `${k.order[0]}/${k.order[1]}`
    const entry = layers.get(id) ?? { order: k.order, label: k.label, in: [] }
    layers.set(id, entry)
    const role = p.role(m)
    if (role === "in") entry.in.push(name)
    else if (role === "gate") entry.gate = name
    else entry.out = name
  }
  return byPrefix
}

/** Architectures whose FF weights appear in the file. */
export const detectArchs = (index: Index): Array<Arch> => archs.filter((a) => candidates(index, a).size > 0)

/**
 * The FF layers of `arch` in the file, checked: every layer has its input and output matrices,
 * with shapes that agree. `prefix` picks among several prefixes holding FF weights.
 */
export const ffLayers = (index: Index, arch: Arch, prefix?: string): Array<FFLayer> => {
  const byPrefix = candidates(index, arch)
  const p = patterns[arch]
  if (byPrefix.size === 0) {
    const others = detectArchs(index)
    throw new UserError({
      message: `${index.file}: no ${arch} FF weights found (expected names like "${p.example}")` +
        (others.length > 0 ? `; the file looks like ${others.join(" or ")}: try --arch ${others[0]}` : "")
    })
  }
  const prefixes = [...byPrefix.keys()]
  const chosen = prefix !== undefined
    ? prefix
    : prefixes.length === 1 ? prefixes[0]! : preferredPrefixes.find((x) => byPrefix.has(x))
  if (chosen === undefined || !byPrefix.has(chosen)) {
    throw new UserError({
      message: `${index.file}: FF weights of ${arch} appear under several prefixes (${prefixes.map((x) => JSON.stringify(x)).join(", ")}); pick one with --prefix`
    })
  }
  const layers = [...byPrefix.get(chosen)!.values()].sort((a, b) => a.order[0] - b.order[0] || a.order[1] - b.order[1])
  return layers.map((l, i) => {
    const where = `${chosen}${l.label}`
    if (l.in.length !== 1) throw new UserError({ message: `${index.file}: ${arch} layer ${where}: expected one FF input matrix, found ${l.in.length === 0 ? "none" : l.in.join(", ")}` })
    if (l.out === undefined) throw new UserError({ message: `${index.file}: ${arch} layer ${where}: FF output matrix missing (have ${l.in[0]})` })
    const inputs: Array<NeuronMatrix> = [{ name: l.in[0]!, neuronAxis: p.axis.in }]
    if (l.gate !== undefined) inputs.push({ name: l.gate, neuronAxis: p.axis.in })
    const out: NeuronMatrix = { name: l.out, neuronAxis: p.axis.out }
    const dims = (m: NeuronMatrix) => {
      const s = index.tensors.get(m.name)!.shape
      if (s.length !== 2) throw new UserError({ message: `${index.file}: tensor "${m.name}": expected a 2-D weight, got shape [${s.join(", ")}]` })
      return { dFF: s[m.neuronAxis]!, dModel: s[1 - m.neuronAxis]! }
    }
    const o = dims(out)
    for (const m of inputs) {
      const d = dims(m)
      if (d.dFF !== o.dFF || d.dModel !== o.dModel) {
        throw new UserError({
          message: `${index.file}: ${arch} layer ${where}: "${m.name}" [${index.tensors.get(m.name)!.shape.join(", ")}] and "${out.name}" ` +
            `[${index.tensors.get(out.name)!.shape.join(", ")}] disagree on dFF/dModel for the ${arch} layout`
        })
      }
    }
    return { index: i, label: chosen === "" || prefixes.length === 1 ? l.label : `${chosen}${l.label}`, inputs, output: out }
  })
}

/** Euclidean norm of each neuron's slice of a row-major `[rows, cols]` matrix. */
export const neuronNorms = (values: Float32Array, shape: ReadonlyArray<number>, neuronAxis: 0 | 1): Float64Array => {
  const rows = shape[0]!
  const cols = shape[1]!
  const sq = new Float64Array(neuronAxis === 0 ? rows : cols)
  for (let r = 0; r < rows; r++) {
    const base = r * cols
    if (neuronAxis === 0) {
      let s = 0
      for (let c = 0; c < cols; c++) s += values[base + c]! * values[base + c]!
      sq[r] = s
    } else {
      for (let c = 0; c < cols; c++) sq[c] = sq[c]! + values[base + c]! * values[base + c]!
    }
  }
  return sq
}

/** Per-neuron norms and magnitudes of one layer. */
export const layerMagnitudes = (index: Index, layer: FFLayer): { dModel: number; dFF: number; inNorm: Float64Array; outNorm: Float64Array; magnitude: Float64Array } => {
  const outShape = index.tensors.get(layer.output.name)!.shape
  const dFF = outShape[layer.output.neuronAxis]!
  const dModel = outShape[1 - layer.output.neuronAxis]!
  const inSq = new Float64Array(dFF)
  for (const m of layer.inputs) {
    const sq = neuronNorms(readFloat32(index, m.name), index.tensors.get(m.name)!.shape, m.neuronAxis)
    for (let i = 0; i < dFF; i++) inSq[i] = inSq[i]! + sq[i]!
  }
  const outSq = neuronNorms(readFloat32(index, layer.output.name), outShape, layer.output.neuronAxis)
  const inNorm = inSq.map(Math.sqrt)
  const outNorm = outSq.map(Math.sqrt)
  return { dModel, dFF, inNorm, outNorm, magnitude: inNorm.map((v, i) => v * outNorm[i]!) }
}

/** One layer's result. */
export interface LayerResult {
  readonly index: number
  readonly label: string
  readonly dModel: number
  readonly dFF: number
  readonly win: string
  readonly wout: string
  readonly dtype: string
  readonly histogram: Stats.Histogram
  /** 5th, 25th, 50th, 75th, 95th percentiles of the magnitudes. */
  readonly quantiles: ReadonlyArray<number>
  /** Neurons whose magnitude is below 1% of the layer's median. */
  readonly nearZero: number
}

/** What `rekindle magnitudes` writes to `magnitudes.json` (and the report plots). */
export interface MagnitudesData {
  readonly kind: "magnitudes"
  readonly file: string
  readonly arch: Arch
  readonly bins: number
  readonly layers: ReadonlyArray<LayerResult>
}

const quantile = (sorted: Float64Array, q: number): number => {
  if (sorted.length === 0) return 0
  const at = q * (sorted.length - 1)
  const lo = Math.floor(at)
  const hi = Math.min(sorted.length - 1, lo + 1)
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo)
}

/** Magnitude histograms and statistics of every FF layer of a checkpoint. */
export const analyze = (file: string, options: { readonly arch?: Arch; readonly bins: number; readonly prefix?: string }): MagnitudesData => {
  const index = readIndex(file)
  let arch = options.arch
  if (arch === undefined) {
    const found = detectArchs(index)
    if (found.length === 0) {
      throw new UserError({
        message: `${file}: no FF weights of a known architecture (${archs.join(", ")}) found; ` +
          (index.tensors.size === 0
            ? "the file holds no tensors"
            : `${index.tensors.size} tensor${index.tensors.size === 1 ? "" : "s"}, e.g. ` +
              [...index.tensors.keys()].slice(0, 3).map((n) => `"${n}"`).join(", "))
      })
    }
    if (found.length > 1) throw new UserError({ message: `${file}: FF weights of ${found.join(" and ")} found; pick one with --arch` })
    arch = found[0]!
  }
  const layers = ffLayers(index, arch, options.prefix)
  return {
    kind: "magnitudes",
    file,
    arch,
    bins: options.bins,
    layers: layers.map((l) => {
      const m = layerMagnitudes(index, l)
      const sorted = Float64Array.from(m.magnitude).sort()
      const median = quantile(sorted, 0.5)
      let nearZero = 0
      for (const v of m.magnitude) if (v < 0.01 * median) nearZero++
      return {
        index: l.index,
        label: l.label,
        dModel: m.dModel,
        dFF: m.dFF,
        win: l.inputs.map((x) => x.name).join(" + "),
        wout: l.output.name,
        dtype: index.tensors.get(l.output.name)!.dtype,
        histogram: Stats.histogram(m.magnitude, options.bins),
        quantiles: [0.05, 0.25, 0.5, 0.75, 0.95].map((q) => quantile(sorted, q)),
        nearZero
      }
    })
  }
}
