/**
 * Checkpoints: everything a run needs to continue exactly where it was, in one safetensors file
 * `checkpoints/step-<8 digits>.safetensors` per checkpoint.
 *
 * Tensors: `param/<name>` (weights), `opt/<slot>/<name>` (every optimizer slot, including the
 * per-element step slots such as Adam's bc1/bc2), `hook/<hook>/<name>` (hook tensors such as the
 * recycler's smooth-reinit blends). Metadata `rekindle.state` is JSON (`CheckpointState`): the
 * step, the optimizer's step count (the learning-rate schedule's cursor), the data stream's
 * position, the trainer's partial log window and last eval, each stateful hook's JSON (the
 * recycler's immunity counters, fired counts, criterion states, lineage, blend ramps), and the
 * number of events written so far. `rekindle.sha256` is a digest of the state and of every tensor
 * (name, dtype, shape, bytes), so a flipped bit anywhere is caught, not trained on.
 *
 * RNG state: every random draw of a run is a pure function of (seed, purpose, step or index)
 * (core `Key`), so the seed and the step are the whole RNG state; the checkpoint records both.
 *
 * Files are written atomically (temporary file, fsync, rename, fsync of the folder), so a kill at
 * any instant leaves either the previous set of checkpoints or the previous set plus a complete
 * new one. The last `keep` are kept.
 */
import { Bug, Files, type HookState, type Loop, type Optimizer, type Params, Schemas, UserError } from "@rekindle/core"
import { tidy } from "@rekindle/engine"
import type { StreamPosition } from "@rekindle/data"
import { Safetensors } from "@rekindle/model"
import * as tf from "@tensorflow/tfjs-core"
import { Effect, FileSystem, Path, Schema } from "effect"
import { createHash } from "node:crypto"

const { NonNegativeInt } = Schemas

/** The checkpoint folder inside a run folder. */
export const folder = "checkpoints"

/** The format tag written into every checkpoint. */
export const format = "rekindle-checkpoint/1"

/** Checkpoints kept by default (older ones are deleted after a new one is complete). */
export const defaultKeep = 3

/** File name of the checkpoint after `step` steps. */
export const fileName = (step: number): string => `step-${String(step).padStart(8, "0")}.safetensors`

const filePattern = /^step-(\d{8,})\.safetensors$/

/**
 * The trainer's own state between steps, saved with a checkpoint so that a resumed run logs
 * exactly what the uninterrupted run would: the losses of the partial log window (float32
 * values), its token count, and the last logged loss and evaluation.
 */
export interface TrainerState {
  readonly windowLosses: ReadonlyArray<number>
  readonly windowTokens: number
  readonly lastLoss: number
  readonly lastEval?: number
  readonly lastEvalStep: number
}

/** A number that may be NaN or infinite, written as a string in JSON. */
const Num = Schema.Union([Schema.Finite, Schema.Literals(["NaN", "Infinity", "-Infinity"])])
type Num = typeof Num.Type

const toJsonNumber = (x: number): Num =>
  Number.isFinite(x) ? x : Number.isNaN(x) ? "NaN" : x > 0 ? "Infinity" : "-Infinity"
const fromJsonNumber = (x: Num): number => (typeof x === "number" ? x : Number(x))

/** The JSON part of a checkpoint (safetensors metadata `rekindle.state`). */
export const CheckpointState = Schema.Struct({
  format: Schema.Literal(format),
  /** Optimizer steps done. */
  step: NonNegativeInt,
  seed: Schema.Int,
  pipelineHash: Schema.String,
  /** `scheduled` (every `train.checkpointEvery` steps and at the end) or `interrupt` (SIGINT/SIGTERM). */
  reason: Schema.Literals(["scheduled", "interrupt"]),
  time: Schema.String,
  /** Lines of events.jsonl written up to and including this checkpoint's own `Checkpoint` event. */
  events: NonNegativeInt,
  /** The data stream's position: the next batch starts at this sequence. */
  stream: Schema.Struct({ epoch: NonNegativeInt, index: NonNegativeInt }),
  /** The optimizer's own step count (the learning-rate schedule's cursor) and its slot names. */
  optimizer: Schema.Struct({ count: NonNegativeInt, slots: Schema.Array(Schema.String) }),
  trainer: Schema.Struct({
    windowLosses: Schema.Array(Num),
    windowTokens: NonNegativeInt,
    lastLoss: Num,
    lastEval: Schema.optionalKey(Num),
    lastEvalStep: Schema.Int
  }),
  /** Stateful hooks' JSON by hook name. */
  hooks: Schema.Record(Schema.String, Schema.Unknown),
  /** Keys are pure derivations of (seed, purpose, step): seed and step are the RNG state. */
  rng: Schema.Struct({ seed: Schema.Int, step: NonNegativeInt })
})

/** The JSON part of a checkpoint (type). */
export type CheckpointState = typeof CheckpointState.Type

/** A checkpoint read from disk and verified (tensors still as host arrays). */
export interface Loaded {
  readonly file: string
  readonly state: CheckpointState
  readonly entries: Readonly<Record<string, Safetensors.Entry>>
}

/** The trainer state as JSON (non-finite numbers as strings). */
export const trainerToJson = (s: TrainerState): CheckpointState["trainer"] => ({
  windowLosses: s.windowLosses.map(toJsonNumber),
  windowTokens: s.windowTokens,
  lastLoss: toJsonNumber(s.lastLoss),
  ...(s.lastEval !== undefined ? { lastEval: toJsonNumber(s.lastEval) } : {}),
  lastEvalStep: s.lastEvalStep
})

/** The trainer state back from JSON. */
export const trainerFromJson = (j: CheckpointState["trainer"]): TrainerState => ({
  windowLosses: j.windowLosses.map(fromJsonNumber),
  windowTokens: j.windowTokens,
  lastLoss: fromJsonNumber(j.lastLoss),
  ...(j.lastEval !== undefined ? { lastEval: fromJsonNumber(j.lastEval) } : {}),
  lastEvalStep: j.lastEvalStep
})

/** Digest of the state JSON text and of the tensors in name order (name, dtype, shape and raw bytes of each). */
export const digest = (stateText: string, entries: Readonly<Record<string, Safetensors.Entry>>): string => {
  const h = createHash("sha256")
  h.update(`${stateText}\u0000`)
  for (const name of Object.keys(entries).sort()) {
    const e = entries[name]!
    h.update(`${name}\u0000${e.dtype}\u0000${e.shape.join(",")}\u0000`)
    h.update(new Uint8Array(e.data.buffer, e.data.byteOffset, e.data.byteLength))
  }
  return h.digest("hex")
}

/** What goes into a checkpoint. */
export interface Contents {
  readonly state: Omit<CheckpointState, "format" | "optimizer">
  readonly params: Params.ParamMap
  readonly opt: Optimizer.OptState
  readonly hooks: ReadonlyArray<HookState>
}

const checkHookName = (name: string) => {
  if (name === "" || name.includes("/")) throw new Bug(`checkpoint: hook state name "${name}" must be non-empty without "/"`)
}

/** Serialises a checkpoint (reads every tensor back from the device). */
export const encode = (c: Contents): Uint8Array => {
  const entries: Record<string, Safetensors.Entry> = {}
  for (const [name, e] of Object.entries(Safetensors.fromTensors(c.params))) entries[`param/${name}`] = e
  const slots = Object.keys(c.opt.slots).sort()
  for (const slot of slots) {
    for (const [name, e] of Object.entries(Safetensors.fromTensors(c.opt.slots[slot]!))) entries[`opt/${slot}/${name}`] = e
  }
  const hooks: Record<string, unknown> = {}
  const seen = new Set<string>()
  for (const h of c.hooks) {
    checkHookName(h.name)
    if (seen.has(h.name)) throw new Bug(`checkpoint: two hooks save state under the name "${h.name}"`)
    seen.add(h.name)
    const saved = h.save()
    hooks[h.name] = saved.json
    for (const [name, e] of Object.entries(Safetensors.fromTensors(saved.tensors))) entries[`hook/${h.name}/${name}`] = e
  }
  const state: CheckpointState = {
    ...c.state,
    format,
    optimizer: { count: c.opt.count, slots },
    hooks: { ...c.state.hooks, ...hooks }
  }
  const stateText = JSON.stringify(state)
  return Safetensors.encode(entries, {
    "rekindle.state": stateText,
    "rekindle.sha256": digest(stateText, entries)
  })
}

const bad = (file: string, message: string) => new UserError({ message: `checkpoint ${file}: ${message}` })

/** Parses and verifies checkpoint bytes (format, state JSON, digest); a UserError names the file and the problem. */
export const decode = (bytes: Uint8Array, file: string): Effect.Effect<Loaded, UserError> =>
  Effect.gen(function*() {
    const decoded = yield* Safetensors.decodeEffect(bytes).pipe(Effect.mapError((e) => bad(file, e.message)))
    const text = decoded.metadata["rekindle.state"]
    if (text === undefined) return yield* bad(file, "not a rekindle checkpoint (no rekindle.state metadata)")
    const expected = decoded.metadata["rekindle.sha256"]
    if (expected === undefined) return yield* bad(file, "no rekindle.sha256 digest")
    if (digest(text, decoded.tensors) !== expected) return yield* bad(file, "its contents do not match its digest (the file is corrupt)")
    const json = yield* Effect.try({ try: () => JSON.parse(text) as unknown, catch: () => bad(file, "rekindle.state is not valid JSON") })
    const state = yield* Schema.decodeUnknownEffect(CheckpointState)(json).pipe(
      Effect.mapError((e) => bad(file, `rekindle.state: ${e.message.split("\n").join(" ")}`))
    )
    return { file, state, entries: decoded.tensors }
  })

/** Steps of the checkpoints in a run folder, newest first (names only; nothing is verified). */
export const list = (dir: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const names = yield* fs.readDirectory(path.join(dir, folder)).pipe(Effect.orElseSucceed(() => [] as Array<string>))
    return names.flatMap((n) => {
      const m = filePattern.exec(n)
      return m === null ? [] : [{ step: Number(m[1]), file: path.join(dir, folder, n) }]
    }).sort((a, b) => b.step - a.step)
  })

/** Reads and verifies one checkpoint file. */
export const read = (file: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const bytes = yield* fs.readFile(file).pipe(Effect.mapError((e) => bad(file, Files.describe(e))))
    return yield* decode(bytes, file)
  })

/** The newest checkpoint that reads and verifies, and the newer ones that did not (with why). */
export interface Latest {
  readonly checkpoint: Loaded | undefined
  readonly skipped: ReadonlyArray<{ readonly file: string; readonly problem: string }>
}

/** Finds the newest usable checkpoint of a run folder, skipping (not deleting) corrupt ones. */
export const latest = (dir: string, accept: (c: Loaded) => string | undefined = () => undefined) =>
  Effect.gen(function*() {
    const skipped: Array<{ file: string; problem: string }> = []
    for (const { file } of yield* list(dir)) {
      const r = yield* read(file).pipe(Effect.result)
      if (r._tag === "Failure") {
        skipped.push({ file, problem: r.failure.message })
        continue
      }
      const problem = accept(r.success)
      if (problem !== undefined) {
        skipped.push({ file, problem })
        continue
      }
      return { checkpoint: r.success, skipped } satisfies Latest
    }
    return { checkpoint: undefined, skipped } satisfies Latest
  })

/** Writes a checkpoint atomically and deletes all but the newest `keep`. Returns the file's path. */
export const write = (dir: string, step: number, bytes: Uint8Array, keep: number = defaultKeep) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    yield* fs.makeDirectory(path.join(dir, folder), { recursive: true })
    const file = path.join(dir, folder, fileName(step))
    yield* Files.writeAtomic(file, bytes)
    yield* prune(dir, keep)
    return file
  })

/** Deletes all but the newest `keep` checkpoints (and temporary files left by killed writers). */
export const prune = (dir: string, keep: number) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const all = yield* list(dir)
    for (const old of all.slice(Math.max(1, keep))) yield* fs.remove(old.file, { force: true }).pipe(Effect.ignore)
    const names = yield* fs.readDirectory(path.join(dir, folder)).pipe(Effect.orElseSucceed(() => [] as Array<string>))
    for (const n of names) {
      const m = /\.tmp-(\d+)$/.exec(n)
      if (m !== null && Number(m[1]) !== process.pid) yield* fs.remove(path.join(dir, folder, n), { force: true }).pipe(Effect.ignore)
    }
  })

/** What the pipeline's model and optimizer expect a checkpoint to hold. */
export interface Expected {
  readonly params: Readonly<Record<string, ReadonlyArray<number>>>
  readonly slots: Readonly<Record<string, Readonly<Record<string, ReadonlyArray<number>>>>>
}

/** The shapes a loop's parameters and its optimizer's fresh state have. */
export const expectedOf = (loop: Loop): Expected => {
  const params: Record<string, ReadonlyArray<number>> = {}
  for (const [n, v] of Object.entries(loop.params)) params[n] = v.shape
  const template = tidy(() => loop.optimizer.init(loop.params))
  const slots: Record<string, Record<string, ReadonlyArray<number>>> = {}
  for (const [s, m] of Object.entries(template.slots)) {
    slots[s] = {}
    for (const [n, t] of Object.entries(m)) {
      slots[s][n] = t.shape
      t.dispose()
    }
  }
  return { params, slots }
}

const same = (a: ReadonlyArray<number>, b: ReadonlyArray<number>) => a.length === b.length && a.every((x, i) => x === b[i])
const fmt = (s: ReadonlyArray<number>) => `[${s.join(", ")}]`

/**
 * Checks a checkpoint against what the pipeline builds: every parameter and optimizer slot
 * present with the same shape, nothing extra. Returns the problems (empty = fits).
 */
export const mismatches = (c: Loaded, expected: Expected): Array<string> => {
  const problems: Array<string> = []
  const used = new Set<string>()
  const check = (key: string, shape: ReadonlyArray<number>) => {
    used.add(key)
    const e = c.entries[key]
    if (e === undefined) problems.push(`${key} is missing (the pipeline's model needs ${fmt(shape)})`)
    else if (!same(e.shape, shape)) problems.push(`${key} has shape ${fmt(e.shape)} but the pipeline's model needs ${fmt(shape)}`)
    else if (e.dtype !== "F32") problems.push(`${key} is ${e.dtype}, expected F32`)
  }
  for (const [n, shape] of Object.entries(expected.params)) check(`param/${n}`, shape)
  const slotNames = Object.keys(expected.slots).sort()
  if (slotNames.join(",") !== [...c.state.optimizer.slots].sort().join(",")) {
    problems.push(`optimizer slots [${c.state.optimizer.slots.join(", ")}] differ from the pipeline optimizer's [${slotNames.join(", ")}]`)
  }
  for (const s of slotNames) for (const [n, shape] of Object.entries(expected.slots[s]!)) check(`opt/${s}/${n}`, shape)
  for (const key of Object.keys(c.entries)) {
    if (used.has(key) || key.startsWith("hook/")) continue
    if (key.startsWith("opt/") && !c.state.optimizer.slots.some((s) => key.startsWith(`opt/${s}/`))) problems.push(`${key} belongs to no optimizer slot`)
    else if (!key.startsWith("opt/")) problems.push(`${key} is not a parameter of the pipeline's model`)
  }
  return problems
}

const tensorsWithPrefix = (entries: Readonly<Record<string, Safetensors.Entry>>, prefix: string) => {
  const picked: Record<string, Safetensors.Entry> = {}
  for (const [k, e] of Object.entries(entries)) if (k.startsWith(prefix)) picked[k.slice(prefix.length)] = e
  return Safetensors.toTensors(picked)
}

/**
 * Installs a verified checkpoint into a loop and its hooks: parameters, then each hook's state,
 * then the optimizer state (against the loop's optimizer after the hooks ran) and the step count.
 * Throws if a hook's saved state is missing.
 */
export const apply = (c: Loaded, loop: Loop, hooks: ReadonlyArray<HookState>): void => {
  const params = tensorsWithPrefix(c.entries, "param/")
  for (const [n, v] of Object.entries(loop.params)) v.assign(params[n]!)
  Object.values(params).forEach((t) => t.dispose())
  for (const h of hooks) {
    if (!Object.hasOwn(c.state.hooks, h.name)) throw new UserError({ message: `checkpoint ${c.file}: no saved state for hook "${h.name}"` })
    const tensors = tensorsWithPrefix(c.entries, `hook/${h.name}/`)
    try {
      h.load(c.state.hooks[h.name], tensors, loop)
    } finally {
      Object.values(tensors).forEach((t) => t.dispose())
    }
  }
  const slots: Record<string, Params.ParamMap> = {}
  for (const s of c.state.optimizer.slots) slots[s] = tensorsWithPrefix(c.entries, `opt/${s}/`)
  loop.setOptState({ count: c.state.optimizer.count, slots })
  loop.setStepsDone(c.state.step)
}

/** The data stream position stored in a checkpoint. */
export const streamPosition = (c: Loaded): StreamPosition => c.state.stream
