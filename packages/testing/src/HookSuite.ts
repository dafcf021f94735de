/**
 * Step-hook conformance suite for plugin authors. `hookConformance(id, part, options)` registers
 * vitest tests that build the hook from its part the way a pipeline does (options decoded by the
 * part's schema, `make` with a run's build context, `build` once the model exists) and run it on
 * tiny transformers through real steps (`@rekindle/loop`'s Trainer and TrainLoop: the hook's
 * forward options, step options and events as a run has them), checking:
 *
 * - its options schema decodes the given options (defaults filled in) to a value that survives
 *   encoding, JSON and decoding again, and `make` does not mutate it;
 * - a run is finite (parameters, optimizer state, the hook's masks, decoupled deltas and scalars);
 * - two runs are bitwise equal (parameters, optimizer state, events; the second one writes a
 *   checkpoint, so saving must not change the hook) and never call Math.random;
 * - a run checkpointed after step k (`Checkpoint.encode`: the hook's `state` included), then
 *   resumed in fresh objects (`Checkpoint.decode` + `apply`, as `rekindle resume` does) ends
 *   bitwise where the uninterrupted run ends, with the same events after step k;
 * - it mutates nothing it must not: its options, the build context, the probe and eval batches, the
 *   parameters inside a decoupled update; and it leaves no tensor behind once the run's scope closes.
 *
 * Parts the hook builds through `context.part` (a criterion, an optimizer) come from
 * `options.plugins`; the run's optimizer is `options.optimizer` (default the kit's own `kit/adam`,
 * an Adam-shaped fixture with options `lr` and `schedule: { kind: "warmup", warmupSteps }`).
 * The checks are also exported one by one (`hookChecks`) as functions that fail with an Error.
 */
import { type Event, EventBus, type ForwardOptions, type HookContext, type HookPart, Key, type Params, Plugin, PluginError, type StepHook, type StepOptions } from "@rekindle/core"
import { Trainer, TrainLoop } from "@rekindle/loop"
import { Model, type ModelConfig } from "@rekindle/model"
import { Checkpoint, Determinism } from "@rekindle/run"
import "@tensorflow/tfjs-backend-cpu"
import * as tf from "@tensorflow/tfjs-core"
import { Effect, Schema } from "effect"
import { isDeepStrictEqual } from "node:util"
import { beforeAll, describe, it } from "vitest"
import { adamLike, tinyBatch, tinyModel, tinyParams, tinyStream } from "./Fixtures.ts"
import { decodeOptions, fail } from "./Options.ts"

/** A hook part (`hooks` kind). */
export type HookSource = Plugin.Part<"hooks", any, any>

/** A ref to a part as a pipeline writes it. */
type Ref = { readonly use: string; readonly [option: string]: unknown }

/** Options of the suite. */
export interface HookSuiteOptions {
  /** The part's options in their pipeline (encoded) form (default `{}`). */
  readonly options?: unknown
  /** Steps of each run (`train.steps`; the part's `runLength` may shorten it; default 12). */
  readonly steps?: number
  /** The checkpoint the resume check restarts from: after this step (default half the run). */
  readonly interruptAt?: number
  /** Plugins whose parts the hook builds through `context.part` (criteria, optimizers), by `namespace/id`. */
  readonly plugins?: ReadonlyArray<Plugin.Plugin<string, any>>
  /** The run's optimizer (default `{ use: "kit/adam", lr: 0.01 }`). */
  readonly optimizer?: Ref
  /** Model variants to run on (default: ReLU with FF biases, SwiGLU with biases). */
  readonly configs?: ReadonlyArray<Partial<ModelConfig>>
  /** `train.logEvery` of the runs (the cadence of hooks' scalars; default 2). */
  readonly logEvery?: number
}

const defaultConfigs: ReadonlyArray<Partial<ModelConfig>> = [{ ffBias: true }, { ffBias: true, activation: "swiglu" }]

/** The kit's own parts, namespace `kit`: an Adam-shaped optimizer (`kit/adam`). */
export const kitPlugin = Plugin.make({
  meta: { name: "@rekindle/testing", version: "0.1.0", namespace: "kit", core: "^0.1.0" },
  optimizers: {
    adam: Plugin.part<"optimizers">()({
      description: "Adam-shaped fixture optimizer (no bias correction), linear warm-up",
      options: Schema.Struct({
        lr: Schema.Finite.pipe(Schema.withDecodingDefaultKey(Effect.succeed(0.01))),
        schedule: Schema.optionalKey(Schema.Struct({ kind: Schema.Literal("warmup"), warmupSteps: Schema.Int }))
      }),
      make: (o) => Effect.succeed(adamLike(o.lr, o.schedule?.warmupSteps ?? 0))
    })
  }
})

/** Freezes a value and everything reachable from it (plain objects and arrays). */
const deepFreeze = <A>(value: A): A => {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value) && !ArrayBuffer.isView(value)) {
    Object.freeze(value)
    for (const v of Object.values(value)) deepFreeze(v)
  }
  return value
}

/** Builds a part of another kind from a ref through the suite's plugins (the pipeline registry's job in a run). */
const resolver = (plugins: ReadonlyArray<Plugin.Plugin<string, any>>, totalSteps: number) =>
<K extends Exclude<Plugin.PartKind, "sinks" | "hooks">>(kind: K, ref: Ref, path: string): Effect.Effect<Plugin.PartProducts[K], PluginError> => {
  const cut = ref.use.indexOf("/")
  const plugin = [...plugins, kitPlugin].find((p) => p.meta.namespace === ref.use.slice(0, cut))
  const part = (plugin as Record<string, Record<string, Plugin.Part<K, any, any>> | undefined> | undefined)?.[kind]?.[ref.use.slice(cut + 1)]
  if (part === undefined) {
    return Effect.fail(new PluginError({ part: ref.use, message: `${path}: no ${kind} part "${ref.use}" among the suite's plugins (pass its plugin in options.plugins)` }))
  }
  const { use: _, ...options } = ref
  return Effect.try({
    try: () => decodeOptions(`${path}: ${ref.use}`, part.options, options),
    catch: (e) => new PluginError({ part: ref.use, message: `${path}: ${e instanceof Error ? e.message : String(e)}` })
  }).pipe(Effect.flatMap((decoded) => part.make(decoded, { totalSteps }) as Effect.Effect<Plugin.PartProducts[K], PluginError>))
}

/** Everything a run of the suite needs, fixed once per suite (`hookSetup`). */
export interface HookSetup {
  readonly id: string
  readonly part: HookSource
  readonly options: unknown
  readonly steps: number
  readonly plugins: ReadonlyArray<Plugin.Plugin<string, any>>
  readonly optimizer: Ref
  readonly logEvery: number
}

/** The suite's setup for a part and the suite's options (defaults filled in). */
export const hookSetup = (id: string, part: HookSource, o: HookSuiteOptions = {}): HookSetup => ({
  id,
  part,
  options: o.options ?? {},
  steps: o.steps ?? 12,
  plugins: o.plugins ?? [],
  optimizer: o.optimizer ?? { use: "kit/adam", lr: 0.01 },
  logEvery: o.logEvery ?? 2
})

/** What one run leaves: final values read back, its events, and (when asked) a checkpoint's bytes. */
export interface HookRun {
  readonly steps: number
  readonly params: Readonly<Record<string, Float32Array>>
  readonly slots: Readonly<Record<string, Float32Array>>
  readonly count: number
  readonly events: ReadonlyArray<Event.Event>
  /** The checkpoint written after step `checkpointAt`: its bytes, its step, and how many events came before it. */
  readonly checkpoint?: { readonly bytes: Uint8Array; readonly step: number; readonly events: number }
}

const readAll = (m: Params.ParamMap): Record<string, Float32Array> =>
  Object.fromEntries(Object.keys(m).sort().map((n) => [n, Float32Array.from(m[n]!.dataSync())]))

const allFinite = (t: tf.Tensor): boolean => tf.tidy(() => tf.all(tf.isFinite(t)).dataSync()[0] === 1)

/**
 * The hook with checks around it: its forward options' masks and blends and its step options'
 * masks are finite, and each decoupled update leaves the parameters it is given as they were and
 * returns finite deltas of their shapes.
 */
const guarded = (hook: StepHook, label: string): StepHook => {
  const forward = (o: ForwardOptions | undefined, step: number) => {
    o?.ffMask?.forEach((m, l) => {
      if (m !== undefined && !allFinite(m)) fail(`${label}: step ${step}: the FF mask of layer ${l} is not finite`)
    })
    o?.blend?.forEach((b, l) => {
      if (b !== undefined && !allFinite(b.alpha)) fail(`${label}: step ${step}: the blend of layer ${l} is not finite`)
    })
    return o
  }
  const checkedUpdate = (step: number, d: NonNullable<StepOptions["decoupled"]>[number]) => (params: Params.ParamMap, lr: number) => {
    const before = readAll(params)
    const out = d(params, lr)
    const after = readAll(params)
    for (const n of Object.keys(before)) if (!isDeepStrictEqual(before[n], after[n])) fail(`${label}: step ${step}: a decoupled update changed parameter ${n} (it must return deltas)`)
    for (const [n, t] of Object.entries(out)) {
      const p = params[n] ?? fail(`${label}: step ${step}: a decoupled update returned a delta for unknown parameter ${n}`)
      if (t.shape.join() !== p.shape.join()) fail(`${label}: step ${step}: the decoupled delta of ${n} has shape [${t.shape}], expected [${p.shape}]`)
      if (!allFinite(t)) fail(`${label}: step ${step}: the decoupled delta of ${n} is not finite`)
    }
    return out
  }
  const step = (o: StepOptions | undefined, s: number): StepOptions | undefined => {
    if (o === undefined) return o
    for (const [n, m] of Object.entries(o.masks ?? {})) if (!allFinite(m)) fail(`${label}: step ${s}: the gradient mask of ${n} is not finite`)
    return o.decoupled === undefined ? o : { ...o, decoupled: o.decoupled.map((d) => checkedUpdate(s, d)) }
  }
  return {
    before: (s, loop) => hook.before(s, loop).pipe(Effect.map((o) => forward(o, s))),
    ...(hook.stepOptions !== undefined ? { stepOptions: (s, loop) => step(hook.stepOptions!(s, loop), s) } : {}),
    ...(hook.state !== undefined ? { state: hook.state } : {})
  }
}

/** Builds the part as a pipeline does: options decoded and frozen, a run's build context. */
const makeHookPart = (setup: HookSetup, dFF: number): Effect.Effect<HookPart, PluginError> =>
  Effect.gen(function*() {
    const decoded = yield* Effect.try({
      try: () => deepFreeze(decodeOptions(setup.id, setup.part.options, setup.options)),
      catch: (e) => new PluginError({ part: setup.id, message: `options: ${e instanceof Error ? e.message : String(e)}` })
    })
    const context = Object.freeze({ totalSteps: setup.steps, dFF, optimizer: setup.optimizer, part: resolver(setup.plugins, setup.steps) })
    const made = yield* (setup.part.make(decoded, context) as Effect.Effect<HookPart, PluginError>).pipe(
      Effect.catchDefect((e) =>
        Effect.fail(new PluginError({ part: setup.id, message: e instanceof TypeError ? `make mutated its options or context: ${e.message}` : String(e) }))
      )
    )
    if (made.signals !== undefined && Object.keys(made.signals).length > 0) {
      return yield* new PluginError({ part: setup.id, message: "the part declares signals; the hook suite does not measure signals (check it with a pipeline run)" })
    }
    return made
  })

/**
 * Runs the hook on the tiny model of `config` for the part's run length: from scratch, or resumed
 * from a checkpoint's bytes; with `checkpointAt`, the checkpoint after that step (default: half
 * the run) is encoded.
 */
const runHook = (
  setup: HookSetup,
  config: Partial<ModelConfig>,
  mode: { readonly checkpointAt?: number | "half"; readonly resume?: Uint8Array } = {}
): Effect.Effect<HookRun, unknown> =>
  Effect.scoped(Effect.gen(function*() {
    const model = tinyModel(config)
    const label = `${setup.id} on ${JSON.stringify(config)}`
    const optimizer = yield* resolver(setup.plugins, setup.steps)("optimizers", setup.optimizer, "optimizer")
    const part = yield* makeHookPart(setup, model.config.dFF)
    const steps = part.runLength?.(setup.steps) ?? setup.steps
    const checkpointAt = mode.checkpointAt === "half" ? Math.floor(steps / 2) : mode.checkpointAt
    if (checkpointAt !== undefined && (checkpointAt < 1 || checkpointAt >= steps)) fail(`${label}: interruptAt ${checkpointAt} is not inside the run's ${steps} steps`)
    const loop = yield* Effect.acquireRelease(Effect.sync(() => TrainLoop.make(model, optimizer, tinyParams(model, 7))), (l) => Effect.sync(() => l.dispose()))
    const probe = yield* Effect.acquireRelease(Effect.sync(() => tinyBatch(model.config, 11)), (b) => Effect.sync(() => Model.disposeBatch(b)))
    const evalBatch = yield* Effect.acquireRelease(Effect.sync(() => tinyBatch(model.config, 13)), (b) => Effect.sync(() => Model.disposeBatch(b)))
    const inputs = [probe, evalBatch].flatMap((b) => [b.inputIds, b.targetIds, b.targetPositions])
    const inputValues = inputs.map((t) => Array.from(t.dataSync()))
    const context: HookContext = Object.freeze({ model, key: Key.make(7), logEvery: setup.logEvery, probe })
    const hook = yield* part.build(context).pipe(
      Effect.catchDefect((e) => Effect.fail(new Error(`${label}: build failed${e instanceof TypeError ? " (did it mutate its context?)" : ""}: ${String(e)}`)))
    )
    if (hook.state !== undefined && (hook.state.name === "" || hook.state.name.includes("/"))) fail(`${label}: its state's name "${hook.state.name}" must be non-empty without "/"`)
    const stateful = hook.state !== undefined ? [hook.state] : []
    const { bus, events } = EventBus.memory()
    let from = 0
    let trainerState: Trainer.TrainInput["state"]
    if (mode.resume !== undefined) {
      const loaded = yield* Checkpoint.decode(mode.resume, `${setup.id}.safetensors`)
      Checkpoint.apply(loaded, loop, stateful)
      from = loaded.state.step
      trainerState = Checkpoint.trainerFromJson(loaded.state.trainer)
    }
    const stream = tinyStream(model.config, 5, 2, from)
    let checkpoint: HookRun["checkpoint"]
    yield* Trainer.train({
      loop,
      stream,
      evalSet: [evalBatch],
      config: { steps, batchSize: 2, evalEvery: 4, evalBatches: 1, logEvery: setup.logEvery, checkpointEvery: checkpointAt ?? 0 },
      hooks: [guarded(hook, label)],
      from,
      ...(trainerState !== undefined ? { state: trainerState } : {}),
      checkpoint: (done, state) =>
        Effect.sync(() => {
          if (done !== checkpointAt) return
          const bytes = Checkpoint.encode({
            state: {
              step: done, seed: 7, pipelineHash: "hook-suite", reason: "scheduled", time: "", events: events.length,
              stream: stream.position(), trainer: Checkpoint.trainerToJson(state), hooks: {}, rng: { seed: 7, step: done }
            },
            params: loop.params,
            opt: loop.optState(),
            hooks: stateful
          })
          checkpoint = { bytes, step: done, events: events.length }
        })
    }).pipe(Effect.provideService(EventBus, bus))
    inputs.forEach((t, i) => {
      if (t.isDisposed) fail(`${label}: the hook disposed a batch it was given (probe or eval)`)
      if (!isDeepStrictEqual(Array.from(t.dataSync()), inputValues[i])) fail(`${label}: a batch it was given changed`)
    })
    const opt = loop.optState()
    const slots: Record<string, Float32Array> = {}
    for (const s of Object.keys(opt.slots).sort()) for (const [n, v] of Object.entries(readAll(opt.slots[s]!))) slots[`${s}/${n}`] = v
    const run: HookRun = { steps, params: readAll(loop.params), slots, count: opt.count, events: [...events], ...(checkpoint !== undefined ? { checkpoint } : {}) }
    return run
  }))

const firstDifference = (a: Readonly<Record<string, Float32Array>>, b: Readonly<Record<string, Float32Array>>): string | undefined => {
  for (const n of Object.keys(a)) {
    const x = a[n]!
    const y = b[n] ?? new Float32Array()
    const i = x.findIndex((v, j) => !Object.is(v, y[j]))
    if (i >= 0 || x.length !== y.length) return `${n}[${i}]: ${x[i]} vs ${y[i]}`
  }
  return undefined
}

const sameRun = (a: HookRun, b: HookRun, what: string, label: string, eventsFrom = 0) => {
  const p = firstDifference(a.params, b.params)
  if (p !== undefined) fail(`${label}: ${what}: parameters differ at ${p}`)
  const s = firstDifference(a.slots, b.slots)
  if (s !== undefined) fail(`${label}: ${what}: optimizer state differs at ${s}`)
  if (a.count !== b.count) fail(`${label}: ${what}: optimizer step counts ${a.count} and ${b.count}`)
  const c = Determinism.compare(a.events.slice(eventsFrom), b.events)
  if (!c.equal) fail(`${label}: ${what}: ${Determinism.describe(c, { expected: "first", actual: "second" })}`)
}

const run = (e: Effect.Effect<HookRun, unknown>): Promise<HookRun> => Effect.runPromise(e)

/** The checks of the suite, each an async function that fails with an Error describing the violation. */
export const hookChecks = {
  /** The options decode (defaults filled in), survive encode → JSON → decode, and `make` builds the part without mutating them. */
  options: async (setup: HookSetup): Promise<void> => {
    const schema = setup.part.options as Schema.Codec<unknown, unknown>
    const decoded = decodeOptions(setup.id, schema, setup.options)
    const again = Schema.decodeUnknownSync(schema)(JSON.parse(JSON.stringify(Schema.encodeSync(schema)(decoded))))
    if (!isDeepStrictEqual(again, decoded)) fail(`${setup.id}: options ${JSON.stringify(decoded)} come back as ${JSON.stringify(again)} after encoding, JSON and decoding`)
    const made = await Effect.runPromise(Effect.result(makeHookPart(setup, tinyModel().config.dFF)))
    if (made._tag === "Failure") fail(`${setup.id}: make failed: ${made.failure.message}`)
    const d = made._tag === "Success" ? made.success.describe(setup.steps) : undefined
    if (d === undefined || typeof d.summary !== "string" || d.summary === "") fail(`${setup.id}: describe gives no summary for rekindle plan`)
  },

  /** A run is finite, leaves its inputs as they were and no tensor behind, and never calls Math.random; returns the run. */
  runs: async (setup: HookSetup, config: Partial<ModelConfig>): Promise<HookRun> => {
    const label = `${setup.id} on ${JSON.stringify(config)}`
    const live = tf.memory().numTensors
    const original = Math.random
    let calls = 0
    Math.random = () => {
      calls++
      return original()
    }
    let r: HookRun
    try {
      r = await run(runHook(setup, config))
    } finally {
      Math.random = original
    }
    if (calls > 0) fail(`${label}: Math.random was called ${calls} times (draw from the context's key instead)`)
    if (tf.memory().numTensors !== live) fail(`${label}: ${tf.memory().numTensors - live} tensors left behind once the run's scope closed`)
    for (const [n, v] of Object.entries({ ...r.params, ...r.slots })) {
      const i = v.findIndex((x) => !Number.isFinite(x))
      if (i >= 0) fail(`${label}: ${n}[${i}] is ${v[i]} after ${r.steps} steps`)
    }
    for (const e of r.events) {
      if (e._tag === "Scalar" && !Number.isFinite(e.value)) fail(`${label}: Scalar ${e.name} at step ${e.step} is ${e.value}`)
    }
    return r
  },

  /**
   * Two runs from the same seed are bitwise equal (parameters, optimizer state, events); the
   * second writes a checkpoint after step `at` (default half the run), so saving must not change
   * the hook either. `first` is a run already made (by `runs`); returns the second.
   */
  deterministic: async (setup: HookSetup, config: Partial<ModelConfig>, at?: number, first?: HookRun): Promise<HookRun> => {
    const a = first ?? await run(runHook(setup, config))
    const b = await run(runHook(setup, config, { checkpointAt: at ?? "half" }))
    sameRun(a, b, "two runs", `${setup.id} on ${JSON.stringify(config)}`)
    return b
  },

  /**
   * Checkpointed after step `at` (default half the run) and resumed in fresh objects, a run ends
   * bitwise where the uninterrupted one does, with the same events after the checkpoint. `whole`
   * is an uninterrupted run that wrote that checkpoint already (by `deterministic`).
   */
  resumes: async (setup: HookSetup, config: Partial<ModelConfig>, at?: number, whole?: HookRun): Promise<void> => {
    const label = `${setup.id} on ${JSON.stringify(config)}`
    const uninterrupted = whole ?? await run(runHook(setup, config, { checkpointAt: at ?? "half" }))
    const saved = uninterrupted.checkpoint ?? fail(`${label}: no checkpoint was written`)
    const resumed = await run(runHook(setup, config, { resume: saved.bytes }))
    sameRun(uninterrupted, resumed, `resumed after step ${saved.step} vs uninterrupted`, label, saved.events)
  }
}

/** Registers the conformance tests of one hook part under `hook conformance: <id>`. */
export const hookConformance = (id: string, part: HookSource, options: HookSuiteOptions = {}): void => {
  const setup = hookSetup(id, part, options)
  const configs = options.configs ?? defaultConfigs
  // each test trains a few short runs: more than vitest's default 5 s on a loaded machine
  describe(`hook conformance: ${id}`, { timeout: 120_000 }, () => {
    beforeAll(async () => {
      await tf.setBackend("cpu")
      await tf.ready()
    })
    it("decodes its options (defaults filled in) to a value that survives JSON; make and describe work without mutating them", () => hookChecks.options(setup))
    for (const config of configs) {
      const on = JSON.stringify(config)
      // each test reuses the previous one's run when it passed (3 runs per model, not 6)
      let first: HookRun | undefined
      let whole: HookRun | undefined
      it(`runs ${setup.steps} steps on ${on}: finite, inputs untouched, no tensor left, no Math.random`, async () => {
        first = await hookChecks.runs(setup, config)
      })
      it(`is deterministic on ${on}: two runs are bitwise equal, the second writing a checkpoint`, async () => {
        whole = await hookChecks.deterministic(setup, config, options.interruptAt, first)
      })
      it(`resumes on ${on}: checkpointed after step ${options.interruptAt ?? "k"} and resumed, it ends bitwise like the uninterrupted run`, () =>
        hookChecks.resumes(setup, config, options.interruptAt, whole))
    }
  })
}
