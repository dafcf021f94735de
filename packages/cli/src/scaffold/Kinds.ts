/**
 * The part kinds `rekindle new` can scaffold, one table entry each: the plugin kind the part is
 * registered under, its source file, its test file (running the kit's conformance suite) and the
 * recycling stage, log entry or hook of the pipeline that uses it. Adding a kind is adding one entry.
 */

/** Names a template is filled with. */
export interface Names {
  /** The plugin's namespace (`lab` in `lab/my-criterion`). */
  readonly namespace: string
  /** The part's id within the namespace. */
  readonly id: string
  /** The package name written to package.json. */
  readonly packageName: string
}

/** One scaffoldable kind. */
export interface Kind {
  /** The word after `rekindle new`. */
  readonly name: string
  /** The key of the part in the plugin value (`Plugin.partKinds`). */
  readonly partKind: "criteria" | "reinitializers" | "sinks" | "signals" | "hooks"
  /** Packages the part's source imports besides `@rekindle/core` and `effect` (shared with rekindle: peers). */
  readonly peers: Readonly<Record<string, string>>
  /** One line for `rekindle new --help` and the README. */
  readonly summary: string
  /** `src/index.ts`. */
  readonly source: (n: Names) => string
  /** `test/<id>.test.ts`. */
  readonly test: (n: Names) => string
  /** The fields of the pipeline (after `name`, `model`, `optimizer`, `train`) that use the part. */
  readonly pipeline: (n: Names) => string
}

const ref = (n: Names) => `${n.namespace}/${n.id}`
/** The part's key in the plugin value, quoted when the id has dashes. */
const key = (n: Names) => (/^[a-z][a-z0-9]*$/.test(n.id) ? n.id : JSON.stringify(n.id))
/** `plugin.criteria.x` or `plugin.criteria["x-y"]`. */
const access = (n: Names, kind: string) => (/^[a-z][a-z0-9]*$/.test(n.id) ? `plugin.${kind}.${n.id}` : `plugin.${kind}[${JSON.stringify(n.id)}]`)
const meta = (n: Names) => `{ name: ${JSON.stringify(n.packageName)}, version: "0.1.0", namespace: ${JSON.stringify(n.namespace)}, core: "^0.1.0" }`

const criterion: Kind = {
  name: "criterion",
  partKind: "criteria",
  peers: {},
  summary: "a selection criterion: which FF neurons a recycling stage recycles",
  source: (n) => `/**
 * \`${ref(n)}\`: a selection criterion. As scaffolded it recycles the neurons with the smallest
 * magnitude M_i = ‖W_in[:, i]‖₂ · ‖W_out[i, :]‖₂ raised to \`power\`; replace \`scores\` with your own
 * per-neuron score (see docs/writing-a-criterion.md of rekindle for the contract and the signals).
 *
 * Rank count: exactly k per layer (per-layer scope) or in total (global scope), lowest score first;
 * ties go to the lower layer, then the lower index (\`Selection.byRank\`).
 */
import { type Criterion, Plugin, Selection, type Signals } from "@rekindle/core"
import { Effect, Schema } from "effect"

/** Options of \`${ref(n)}\`, written next to \`use\` in a pipeline. */
export const Options = Schema.Struct({
  power: Schema.Finite.pipe(
    Schema.check(Schema.isGreaterThan(0)),
    Schema.annotate({ description: "Exponent applied to each neuron's magnitude (ranking is the same for any power > 0)" }),
    Schema.withDecodingDefaultKey(Effect.succeed(1))
  )
})

/** Per layer, one score per neuron: M_i^power. The lowest are recycled. */
export const scores = (signals: Signals, power: number): Array<Float32Array> =>
  signals.layers.map((layer) => layer.magnitude.map((m) => m ** power))

/** The criterion: stateless, deterministic, reads only weight norms. */
export const criterion = (options: typeof Options.Type): Criterion<void> => ({
  needs: { activations: false },
  count: "rank",
  init: () => undefined,
  observe: (state) => state,
  select: (_state, signals, request) => Selection.byRank(scores(signals, options.power), request, "lowest")
})

/** The plugin value: register it in a pipeline (\`definePipeline.with([plugin])\`) or in rekindle.config.ts. */
export const plugin = Plugin.make({
  meta: ${meta(n)},
  criteria: {
    ${key(n)}: Plugin.part<"criteria">()({
      description: "The k neurons with the smallest magnitude^power (rank: exactly k)",
      options: Options,
      make: (options) => Effect.succeed(criterion(options))
    })
  }
})
`,
  test: (n) => `import { Key, type Signals } from "@rekindle/core"
import { criterionConformance, makeCriterion, selectRequest } from "@rekindle/testing"
import { describe, expect, it } from "vitest"
import { plugin } from "../src/index.ts"

// the core contract: well-formed selections, exact rank counts, determinism, immunity, purity,
// finite scores, no tensor leaks
criterionConformance(${JSON.stringify(ref(n))}, ${access(n, "criteria")})
criterionConformance(${JSON.stringify(`${ref(n)} (power 2)`)}, ${access(n, "criteria")}, { options: { power: 2 } })

describe(${JSON.stringify(ref(n))}, () => {
  it("recycles the neurons with the smallest magnitude", () => {
    const magnitude = Float32Array.from([3, 1, 2, 0.5])
    const signals: Signals = {
      step: 0,
      layers: [{ layer: 0, dFF: 4, inNorm: magnitude, outNorm: new Float32Array(4).fill(1), magnitude }]
    }
    const chosen = makeCriterion(${access(n, "criteria")}).select(undefined, signals, selectRequest([4], 2), Key.make(1))
    expect(chosen.layers[0]!.indices).toEqual([1, 3])
    expect(chosen.layers[0]!.scores).toEqual([1, 0.5])
  })
})
`,
  pipeline: (n) => `  recycling: [{
    schedule: { every: 2, from: 2 },
    select: { use: ${JSON.stringify(ref(n))}, fraction: 0.1 },
    reinit: { use: "reinit/initial" },
    optimizerState: "zero-moments"
  }]`
}

const reinit: Kind = {
  name: "reinit",
  partKind: "reinitializers",
  peers: { "@tensorflow/tfjs-core": "4.22.0" },
  summary: "a reinitializer: the new weights of recycled neurons",
  source: (n) => `/**
 * \`${ref(n)}\`: a reinitializer. As scaffolded it draws fresh incoming weights from the model's own
 * init distribution, scaled by \`scale\`, and zeroes the outgoing weights, so a recycled neuron starts
 * silent to the rest of the network. Only the chosen slices change (\`slicesOnly\`): the host checks it.
 */
import { Key, Plugin, type Reinitializer, Slices } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import { Effect, Schema } from "effect"

/** Options of \`${ref(n)}\`, written next to \`use\` in a pipeline. */
export const Options = Schema.Struct({
  scale: Schema.Finite.pipe(
    Schema.check(Schema.isGreaterThan(0)),
    Schema.annotate({ description: "Factor applied to the fresh incoming weights" }),
    Schema.withDecodingDefaultKey(Effect.succeed(1))
  )
})

/** The reinitializer. */
export const reinitializer = (options: typeof Options.Type): Reinitializer => ({
  slicesOnly: true,
  apply: (ctx) => {
    const out: Record<string, tf.Tensor> = {}
    ctx.topology.layers.forEach((layer, position) => {
      const indices = ctx.selection.layers[position]?.indices ?? []
      if (indices.length === 0) return
      const key = Key.fold(ctx.key, position)
      for (const slice of layer.slices) {
        const current = out[slice.param] ?? ctx.params[slice.param]!
        out[slice.param] = slice.role === "out"
          ? Slices.fillAlong(current, slice.axis, indices, 0)
          : Slices.mergeAlong(current, slice.axis, indices, tf.mul(ctx.initial(slice.param, Key.split(key, slice.param)), options.scale))
      }
    })
    return out
  }
})

/** The plugin value: register it in a pipeline (\`definePipeline.with([plugin])\`) or in rekindle.config.ts. */
export const plugin = Plugin.make({
  meta: ${meta(n)},
  reinitializers: {
    ${key(n)}: Plugin.part<"reinitializers">()({
      description: "Fresh incoming weights (init distribution × scale), zero outgoing weights",
      options: Options,
      make: (options) => Effect.succeed(reinitializer(options))
    })
  }
})
`,
  test: (n) => `import { reinitConformance } from "@rekindle/testing"
import { plugin } from "../src/index.ts"

// the core contract: only the chosen slices change, shapes kept, deterministic per key, no leaks
reinitConformance(${JSON.stringify(ref(n))}, ${access(n, "reinitializers")})
reinitConformance(${JSON.stringify(`${ref(n)} (scale 0.5)`)}, ${access(n, "reinitializers")}, { options: { scale: 0.5 } })
`,
  pipeline: (n) => `  recycling: [{
    schedule: { every: 2, from: 2 },
    select: { use: "select/magnitude-smallest", fraction: 0.1 },
    reinit: { use: ${JSON.stringify(ref(n))} },
    optimizerState: "zero-moments"
  }]`
}

const sink: Kind = {
  name: "sink",
  partKind: "sinks",
  peers: {},
  summary: "a sink: receives every event of a run (logging, files, dashboards)",
  source: (n) => `/**
 * \`${ref(n)}\`: a sink. As scaffolded it counts the events of each kind and writes the counts to
 * \`<run folder>/${n.id}.json\` at every flush (checkpoints and the end of the run).
 */
import { Plugin, RunLocation, type Sink, SinkError } from "@rekindle/core"
import { Effect, FileSystem, Path, Schema } from "effect"

/** Options of \`${ref(n)}\`, written next to \`use\` in a pipeline's \`log\` list. */
export const Options = Schema.Struct({
  file: Schema.String.pipe(
    Schema.annotate({ description: "File name inside the run folder" }),
    Schema.withDecodingDefaultKey(Effect.succeed(${JSON.stringify(`${n.id}.json`)}))
  )
})

/** The sink, writing into the run folder. */
export const sink = (options: typeof Options.Type) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const dir = yield* RunLocation
    const counts: Record<string, number> = {}
    const flush = fs.writeFileString(path.join(dir.path, options.file), JSON.stringify(counts, null, 2) + "\\n")
    yield* Effect.addFinalizer(() => Effect.ignore(flush))
    const out: Sink = {
      name: ${JSON.stringify(ref(n))},
      required: false,
      write: (event) => Effect.sync(() => void (counts[event._tag] = (counts[event._tag] ?? 0) + 1)),
      // a sink's failures are SinkErrors (the run drops an optional sink that fails, with a warning)
      flush: flush.pipe(Effect.mapError(SinkError.from(${JSON.stringify(ref(n))})))
    }
    return out
  })

/** The plugin value: register it in a pipeline (\`definePipeline.with([plugin])\`) or in rekindle.config.ts. */
export const plugin = Plugin.make({
  meta: ${meta(n)},
  sinks: {
    ${key(n)}: Plugin.part<"sinks">()({
      description: "Counts the events of each kind into a JSON file of the run folder",
      options: Options,
      make: (options) => sink(options)
    })
  }
})
`,
  test: (n) => `import { sinkConformance } from "@rekindle/testing"
import { plugin } from "../src/index.ts"

// the core contract: takes every kind of event, flushes twice, writes after a flush, closes with
// its scope, leaves files only in the run folder
sinkConformance(${JSON.stringify(ref(n))}, ${access(n, "sinks")})
`,
  pipeline: (n) => `  log: [{ use: "log/console" }, { use: "log/jsonl" }, { use: ${JSON.stringify(ref(n))} }]`
}

/** `plugin.criteria["<id>-smallest"]`: the criterion the signal scaffold ships to use its signal. */
const smallest = (n: Names): Names => ({ ...n, id: `${n.id}-smallest` })

const signal: Kind = {
  name: "signal",
  partKind: "signals",
  peers: { "@tensorflow/tfjs-core": "4.22.0" },
  summary: "a signal: one per-neuron vector per FF layer, measured on device for criteria, probes and hooks",
  source: (n) => `/**
 * \`${ref(n)}\`: a signal. As scaffolded it measures |mean over tokens of ∂L/∂h_i|, the mean gradient
 * reaching neuron i in a training step, from the step's own backward pass (no extra pass); replace
 * \`compute\` with your own per-neuron measurement (see docs/signals.md of rekindle for the view it
 * gets: weights, gradients, activations, the probe batch, optimizer slots).
 *
 * The same file has \`${ref(smallest(n))}\`, a criterion that recycles the neurons with the smallest
 * value of the signal, averaged since the stage last fired: a criterion reads a signal by declaring it.
 */
import { type Criterion, Plugin, Selection, type Signal } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import { Effect, Schema } from "effect"

/** The signal: synchronous TF.js inside the host's tidy; a float32 [dFF] vector per layer. */
export const signal = (): Signal.Signal => ({
  needs: { step: "hidden" },
  compute: (view) => tf.abs(tf.div(tf.sum(view.hiddenGrad!, 0), view.hiddenGrad!.shape[0])) as tf.Tensor1D
})

/** The criterion using it: rank, lowest mean value first. */
export const criterion = (): Criterion<void> => ({
  needs: { activations: false },
  signals: { value: { use: ${JSON.stringify(ref(n))}, window: { kind: "mean" } } },
  count: "rank",
  init: () => undefined,
  observe: (state) => state,
  select: (_state, signals, request) => Selection.byRank(signals.layers.map((l) => l.values!.value!), request, "lowest")
})

/** The plugin value: register it in a pipeline (\`definePipeline.with([plugin])\`) or in rekindle.config.ts. */
export const plugin = Plugin.make({
  meta: ${meta(n)},
  signals: {
    ${key(n)}: Plugin.part<"signals">()({
      description: "|mean over tokens of ∂L/∂h_i| from the training step",
      options: Schema.Struct({}),
      make: () => Effect.sync(signal)
    })
  },
  criteria: {
    ${key(smallest(n))}: Plugin.part<"criteria">()({
      description: ${JSON.stringify(`The k neurons with the smallest ${ref(n)}, averaged since the stage last fired (rank: exactly k)`)},
      options: Schema.Struct({}),
      make: () => Effect.sync(criterion)
    })
  }
})
`,
  test: (n) => `import { criterionConformance, signalConformance } from "@rekindle/testing"
import { plugin } from "../src/index.ts"

// the signal contract, observed the way a run does on tiny models (ReLU, GELU, SwiGLU): one finite
// float32 [dFF] vector per layer, deterministic, inputs untouched, no leaks, windows resume exactly
signalConformance(${JSON.stringify(ref(n))}, ${access(n, "signals")})
// the criterion reading it: well-formed selections, exact rank counts, determinism, purity
criterionConformance(${JSON.stringify(ref(smallest(n)))}, ${access(smallest(n), "criteria")})
`,
  pipeline: (n) => `  recycling: [{
    schedule: { every: 2, from: 2 },
    select: { use: ${JSON.stringify(ref(smallest(n)))}, fraction: 0.1 },
    reinit: { use: "reinit/initial" },
    optimizerState: "zero-moments"
  }]`
}

const hook: Kind = {
  name: "hook",
  partKind: "hooks",
  peers: { "@tensorflow/tfjs-core": "4.22.0" },
  summary: "a step hook: an intervention around every optimizer step (a regularizer, gradient noise, a mask)",
  source: (n) => `/**
 * \`${ref(n)}\`: a step hook. As scaffolded it is an anchored L2 penalty on the FF weights (L2-SP,
 * Li et al. 2018): before the update of step \`from\` it keeps a copy W₀ of every FF weight matrix
 * (the anchor), and from then on each update also moves W by −lr · coefficient · (W − W₀), decoupled
 * from the optimizer the way AdamW applies weight decay. Every \`train.logEvery\` steps it emits a
 * \`Scalar\` event \`distance\` = Σ ‖W − W₀‖².
 *
 * The anchor is state the hook keeps across steps, so it travels with checkpoints (\`state\`: save
 * and load); without it a resumed run would differ from an uninterrupted one, and the kit's hook
 * suite says so. Replace \`delta\` (and the state) with your own intervention; see
 * docs/recycling.md#writing-a-step-hook of rekindle for the contract (forward options, step options,
 * events, state).
 */
import { type DecoupledUpdate, Event, EventBus, type HookPart, type HookState, Plugin, PluginError, type StepHook, type Topology } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import { Effect, Schema } from "effect"

/** Options of \`${ref(n)}\`, written next to \`use\` in a pipeline's \`hooks\` list. */
export const Options = Schema.Struct({
  coefficient: Schema.Finite.pipe(
    Schema.check(Schema.isGreaterThan(0)),
    Schema.annotate({ description: "Strength of the pull towards the anchor (> 0)" }),
    Schema.withDecodingDefaultKey(Effect.succeed(0.01))
  ),
  from: Schema.Int.pipe(
    Schema.check(Schema.isGreaterThanOrEqualTo(0)),
    Schema.annotate({ description: "Step before whose update the anchor is taken (default 0)" }),
    Schema.withDecodingDefaultKey(Effect.succeed(0))
  )
})

/** The FF weight matrices of every layer (W_in, W_out). */
const weights = (topology: Topology.Topology): Array<string> => topology.layers.flatMap((l) => [l.win, l.wout])

/** The hook and a way to release its tensors. */
export const make = (options: typeof Options.Type, topology: Topology.Topology, logEvery: number) => {
  let anchor: Record<string, tf.Tensor> | undefined
  const release = () => {
    if (anchor !== undefined) tf.dispose(Object.values(anchor))
    anchor = undefined
  }
  /** The decoupled step: −lr · coefficient · (W − W₀) on every FF weight matrix. */
  const delta: DecoupledUpdate = (params, lr) =>
    Object.fromEntries(weights(topology).map((name) => [name, tf.mul(tf.sub(params[name]!, anchor![name]!), -lr * options.coefficient)]))
  const state: HookState = {
    name: ${JSON.stringify(n.id)},
    // tensors the hook still owns (read back, not disposed); JSON for the rest
    save: () => ({ json: { anchored: anchor !== undefined }, tensors: anchor ?? {} }),
    // copies: the caller disposes what it hands over
    load: (json, tensors) => {
      release()
      if ((json as { anchored: boolean }).anchored) anchor = Object.fromEntries(weights(topology).map((name) => [name, tf.clone(tensors[name]!)]))
    }
  }
  const hook: StepHook = {
    state,
    before: (step, loop) =>
      Effect.gen(function*() {
        if (step === options.from && anchor === undefined) anchor = Object.fromEntries(weights(topology).map((name) => [name, tf.clone(loop.params[name]!)]))
        if (anchor === undefined || step % logEvery !== 0) return undefined
        const distance = tf.tidy(() => tf.addN(weights(topology).map((name) => tf.sum(tf.square(tf.sub(loop.params[name]!, anchor![name]!))))).dataSync()[0]!)
        yield* (yield* EventBus).emit(Event.Scalar.make({ step, probe: ${JSON.stringify(ref(n))}, name: "distance", value: distance }))
        return undefined
      }),
    stepOptions: () => (anchor === undefined ? undefined : { decoupled: [delta] })
  }
  return { hook, release }
}

/** The plugin value: register it in a pipeline (\`definePipeline.with([plugin])\`) or in rekindle.config.ts. */
export const plugin = Plugin.make({
  meta: ${meta(n)},
  hooks: {
    ${key(n)}: Plugin.part<"hooks">()({
      description: "Anchored L2 penalty on the FF weights: pull W towards its value at step \`from\`, decoupled like weight decay",
      options: Options,
      make: (options, context) =>
        (context.dFF ?? 1) === 0
          ? Effect.fail(new PluginError({ part: ${JSON.stringify(ref(n))}, message: "the model has no FF neurons (model.dFF is 0)" }))
          : options.from >= context.totalSteps
          ? Effect.fail(new PluginError({ part: ${JSON.stringify(ref(n))}, message: \`from: the anchor would be taken at step \${options.from}, but training runs steps 0..\${context.totalSteps - 1}\` }))
          : Effect.succeed<HookPart>({
            describe: () => ({ summary: \`anchored L2 on the FF weights: coefficient \${options.coefficient}, anchor taken before step \${options.from}\` }),
            // the anchor's tensors are released with the run's scope
            build: (run) =>
              Effect.acquireRelease(Effect.sync(() => make(options, run.model.topology, run.logEvery)), (h) => Effect.sync(h.release)).pipe(
                Effect.map((h) => h.hook)
              )
          })
    })
  }
})
`,
  test: (n) => `import { hookConformance } from "@rekindle/testing"
import { plugin } from "../src/index.ts"

// the step-hook contract, run through real training steps on tiny models (ReLU, SwiGLU): options
// decode, finite runs, bitwise determinism, a checkpoint taken after step 5 (the anchor was taken
// at step 3) and resumed ends exactly like the uninterrupted run, inputs untouched, no tensor leaks
hookConformance(${JSON.stringify(ref(n))}, ${access(n, "hooks")}, { options: { coefficient: 0.1, from: 3 }, interruptAt: 5 })
`,
  pipeline: (n) => `  hooks: [{ use: ${JSON.stringify(ref(n))}, coefficient: 0.01, from: 2 }]`
}

/** Every kind `rekindle new` scaffolds, by name. */
export const kinds: ReadonlyArray<Kind> = [criterion, reinit, sink, signal, hook]
