/**
 * Signal conformance suite for plugin authors. `signalConformance(id, source)` registers vitest
 * tests checking the core `Signal` contract on tiny transformers (ReLU with FF biases, GELU without,
 * SwiGLU with biases), each observed the way a run observes it — a real training step's h, ∂L/∂h and
 * ∂L/∂W (h and ∂L/∂h only for `needs.step: "hidden"`, also computed inside the backward pass's tap
 * as a run does, same bits), the probe batch's h, an Adam-shaped optimizer state's slots: one
 * `[dFF]` float32 vector per layer, finite, bitwise deterministic, inputs neither disposed nor changed, no tensor leaked; and its window
 * state (last, mean, EMA) survives a checkpoint round trip through JSON bit for bit. `source` is a
 * plugin part (options decoded from `options.options`, default `{}`) or a factory.
 */
import type { Optimizer, Params, Signal, Topology } from "@rekindle/core"
import { Plugin, SignalViews as Views, SignalWindows as Windows } from "@rekindle/core"
import { type BatchTensors, Forward, type ModelConfig, type Transformer } from "@rekindle/model"
import "@tensorflow/tfjs-backend-cpu"
import * as tf from "@tensorflow/tfjs-core"

import { beforeAll, describe, it } from "vitest"
import { adamShaped, disposeState, modelVariants, tinyBatch, tinyModel, tinyOptState, tinyParams } from "./Fixtures.ts"
import { build, fail } from "./Options.ts"

/** A signal part or a factory of signals. */
export type SignalSource = Plugin.Part<"signals", any, any> | (() => Signal.Signal)

/** Options of the suite. */
export interface SignalSuiteOptions {
  /** Part options, decoded by the part's schema (parts only; default `{}`). */
  readonly options?: unknown
  /** Model variants to run on (default: ReLU with biases, GELU without, SwiGLU with biases). */
  readonly configs?: ReadonlyArray<Partial<ModelConfig>>
}

/** Builds a signal from a part (decoding `options`) or a factory. */
export const makeSignal = (source: SignalSource, options: unknown = {}): Signal.Signal => build("makeSignal", source, options)

/** Everything one observation of a tiny model holds; `dispose` frees it all. */
export interface Observed {
  readonly model: Transformer.Transformer
  readonly capture: Views.Capture
  readonly dispose: () => void
}

/**
 * One observation as a run makes it: the loss of `batch` differentiated with respect to every
 * parameter, h and ∂L/∂h captured in the same backward pass (`ForwardOptions.hiddenGrad`), or h
 * of a forward pass only (`probe`), plus the slots of `opt`. Every tensor is kept until `dispose`.
 */
export const observe = (
  model: Transformer.Transformer,
  params: Params.ParamMap,
  batch: BatchTensors,
  needs: Signal.SignalNeeds,
  opt?: Optimizer.OptState
): Omit<Observed, "model"> => {
  const kept: Array<tf.Tensor> = []
  const keep = <T extends tf.Tensor>(t: T): T => {
    kept.push(tf.keep(t))
    return t
  }
  const n = model.topology.layers.length
  const hidden: Array<tf.Tensor2D | undefined> = Array.from({ length: n })
  const hiddenGrad: Array<tf.Tensor2D | undefined> = Array.from({ length: n })
  let grads: Record<string, tf.Tensor> | undefined
  tf.tidy(() => {
    if (needs.step === true || needs.step === "gradients" || needs.step === "hidden") {
      const names = Object.keys(params).sort()
      // h and ∂L/∂h only for `step: true` and `"hidden"` (as in a run's step: a "gradients" signal gets none)
      const tap = needs.step === true || needs.step === "hidden"
        ? {
          hiddenGrad: (l: number, h: tf.Tensor2D, dh: tf.Tensor2D) => {
            hidden[l] = keep(tf.clone(h))
            hiddenGrad[l] = keep(tf.clone(dh))
          }
        }
        : undefined
      const g = tf.grads((...ts: Array<tf.Tensor>) =>
        model.loss(Object.fromEntries(names.map((name, i) => [name, ts[i]!])), batch, tap)
      )(names.map((name) => params[name]!))
      // ∂L/∂W not for `"hidden"` (a run's tap has none to give)
      if (needs.step !== "hidden") grads = Object.fromEntries(names.map((name, i) => [name, keep(g[i]!)]))
      else tf.dispose(g)
    } else if (needs.probe === true) {
      Forward.hiddenStates(model.config, params, batch, undefined, (l, h) => {
        hidden[l] = keep(tf.clone(h))
      })
    }
  })
  return {
    capture: {
      params,
      ...(grads !== undefined ? { grads } : {}),
      ...(needs.step === true || needs.step === "hidden" || needs.probe === true ? { hidden } : {}),
      ...(needs.step === true || needs.step === "hidden" ? { hiddenGrad } : {}),
      ...(needs.optimizer === true && opt !== undefined ? { slots: opt.slots } : {})
    },
    dispose: () => tf.dispose(kept)
  }
}

/**
 * The signal's vectors for every layer computed the way a run computes a `needs.step: "hidden"`
 * signal: inside the backward pass of the loss of `batch`, in the activation's gradient tap, from
 * the layer's weights (and slots of `opt` for `needs.optimizer`), h and ∂L/∂h; read back as plain
 * arrays. A layer the tap never reached reads as undefined.
 */
export const computeInTap = (
  signal: Signal.Signal,
  model: Transformer.Transformer,
  params: Params.ParamMap,
  batch: BatchTensors,
  opt?: Optimizer.OptState
): Array<Float32Array | undefined> => {
  const out: Array<Float32Array | undefined> = model.topology.layers.map(() => undefined)
  const names = Object.keys(params).sort()
  const slots = signal.needs.optimizer === true && opt !== undefined ? { slots: opt.slots } : {}
  const tap = (l: number, hidden: tf.Tensor2D, hiddenGrad: tf.Tensor2D) => {
    out[l] = tf.tidy(() => {
      const view = Views.viewOf(model.topology.layers[l]!, l, { params, ...slots })
      return Float32Array.from(signal.compute({ ...view, hidden, hiddenGrad }).dataSync())
    })
  }
  tf.tidy(() => {
    tf.grads((...ts: Array<tf.Tensor>) => model.loss(Object.fromEntries(names.map((name, i) => [name, ts[i]!])), batch, { hiddenGrad: tap }))(
      names.map((name) => params[name]!)
    )
  })
  return out
}

/** The signal's vectors for every layer of a capture, read back as plain arrays (inside a tidy). */
export const computeAll = (signal: Signal.Signal, topology: Topology.Topology, capture: Views.Capture): Array<Float32Array> =>
  tf.tidy(() => Views.viewsOf(topology, capture).map((v) => Float32Array.from(signal.compute(v).dataSync())))

interface World {
  readonly model: Transformer.Transformer
  readonly params: Record<string, tf.Tensor>
  readonly batch: BatchTensors
  readonly opt: Optimizer.OptState
  readonly observed: ReturnType<typeof observe>
}

const withWorlds = (signal: Signal.Signal, options: SignalSuiteOptions, f: (w: World, label: string) => void) => {
  for (const config of options.configs ?? modelVariants) {
    const model = tinyModel(config)
    const params = tinyParams(model, 7)
    const batch = tinyBatch(model.config, 3, 2)
    const opt = tinyOptState(adamShaped, params, 3, 5)
    const observed = observe(model, params, batch, signal.needs, opt)
    try {
      f({ model, params, batch, opt, observed }, JSON.stringify(config))
    } finally {
      observed.dispose()
      disposeState(opt)
      tf.dispose([batch.inputIds, batch.targetIds, batch.targetPositions])
      for (const t of Object.values(params)) t.dispose()
    }
  }
}

const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((x, i) => Object.is(x, b[i]))

/** The checks of the suite as plain functions (each throws on failure). */
export const signalChecks = {
  /** One float32 `[dFF]` vector per FF layer, every value finite. */
  shapeAndFinite: (signal: Signal.Signal, w: World, label: string) => {
    const views = tf.tidy(() => Views.viewsOf(w.model.topology, w.observed.capture).map((v) => {
      const x = signal.compute(v)
      if (x.rank !== 1 || x.shape[0] !== v.layer.dFF) fail(`${label}: layer ${v.layer.layer}: shape [${x.shape.join(", ")}], expected [${v.layer.dFF}]`)
      if (x.dtype !== "float32") fail(`${label}: layer ${v.layer.layer}: dtype ${x.dtype}, expected float32`)
      return Float32Array.from(x.dataSync())
    }))
    views.forEach((x, p) => {
      const bad = x.findIndex((v) => !Number.isFinite(v))
      if (bad >= 0) fail(`${label}: layer ${p}: neuron ${bad} is ${x[bad]}`)
    })
  },
  /** The same inputs give the same bits; inputs are not disposed or changed; nothing leaks. */
  deterministicAndClean: (signal: Signal.Signal, w: World, label: string) => {
    const before = Object.fromEntries(Object.entries(w.params).map(([n, t]) => [n, Float32Array.from(t.dataSync())]))
    const live = tf.memory().numTensors
    const a = computeAll(signal, w.model.topology, w.observed.capture)
    const b = computeAll(signal, w.model.topology, w.observed.capture)
    if (tf.memory().numTensors !== live) fail(`${label}: ${tf.memory().numTensors - live} tensors leaked by compute`)
    a.forEach((x, p) => {
      if (!same(x, b[p]!)) fail(`${label}: layer ${p}: two computations on the same inputs differ`)
    })
    for (const [n, t] of Object.entries(w.params)) {
      if (t.isDisposed) fail(`${label}: parameter ${n} was disposed`)
      if (!same(before[n]!, Float32Array.from(t.dataSync()))) fail(`${label}: parameter ${n} was changed`)
    }
  },
  /** Every window's state, saved mid-way through JSON and restored, continues bit for bit. */
  windowRoundTrip: (signal: Signal.Signal, w: World, label: string) => {
    const widths = w.model.topology.layers.map((l) => l.dFF)
    // three observations: the signal's vector scaled, so they differ
    const observation = (i: number) =>
      tf.tidy(() => Views.viewsOf(w.model.topology, w.observed.capture).map((v) => tf.keep(tf.mul(signal.compute(v), 1 + i / 3) as tf.Tensor1D)))
    const windows: Array<Signal.Window> = [{ kind: "last" }, { kind: "mean" }, { kind: "ema", decay: 0.9 }]
    for (const window of windows) {
      const owned: Array<tf.Tensor> = []
      const fold = (acc: Windows.Accumulator, i: number) => {
        const x = observation(i)
        owned.push(...x)
        const next = tf.tidy(() => Windows.fold(window, acc, x) as unknown as tf.TensorContainer) as unknown as Windows.Accumulator
        owned.push(...(next.values ?? []))
        return next
      }
      const readBack = (acc: Windows.Accumulator) => tf.tidy(() => Windows.read(window, acc, widths).map((t) => Float32Array.from(t.dataSync())))
      let straight = fold(fold(Windows.empty, 0), 1)
      const saved = JSON.parse(JSON.stringify(Windows.toJson(straight))) as Windows.AccumulatorJson
      let restored = Windows.fromJson(saved)
      owned.push(...(restored.values ?? []))
      straight = fold(straight, 2)
      restored = fold(restored, 2)
      const a = readBack(straight)
      const b = readBack(restored)
      a.forEach((x, p) => {
        if (!same(x, b[p]!)) fail(`${label}: window ${window.kind}: layer ${p} differs after a checkpoint round trip`)
        const bad = x.findIndex((v) => !Number.isFinite(v))
        if (bad >= 0) fail(`${label}: window ${window.kind}: layer ${p} neuron ${bad} is ${x[bad]}`)
      })
      tf.dispose(owned)
    }
    const zeros = tf.tidy(() => Windows.read({ kind: "mean" }, Windows.empty, widths).map((t) => Array.from(t.dataSync())))
    if (zeros.some((z, p) => z.length !== widths[p] || z.some((x) => x !== 0))) fail(`${label}: an empty window does not read as zeros`)
  },
  /**
   * A `needs.step: "hidden"` signal, computed where a run computes it (in the tap, during the
   * backward pass), gives the bits it gives on h and ∂L/∂h held to the step's end; nothing leaks.
   * Other signals: nothing to check.
   */
  computedInTheTap: (signal: Signal.Signal, w: World, label: string) => {
    if (signal.needs.step !== "hidden") return
    const held = computeAll(signal, w.model.topology, w.observed.capture)
    const live = tf.memory().numTensors
    const inTap = computeInTap(signal, w.model, w.params, w.batch, w.opt)
    if (tf.memory().numTensors !== live) fail(`${label}: ${tf.memory().numTensors - live} tensors leaked by compute in the tap`)
    held.forEach((x, p) => {
      const y = inTap[p]
      if (y === undefined) fail(`${label}: layer ${p}: the backward pass never reached the tap`)
      else if (!same(x, y)) fail(`${label}: layer ${p}: computed in the tap, the values differ from those on held h and ∂L/∂h`)
    })
  },
  /** `check` accepts the run it was observed in (a probe batch, Adam's slots, these layers). */
  acceptsItsRun: (signal: Signal.Signal, w: World, label: string) => {
    const message = signal.check?.({ layers: w.model.topology.layers, slots: adamShaped.slots, probe: true })
    if (message !== undefined) fail(`${label}: check refuses a run with a probe batch and Adam: ${message}`)
  }
}

/** Runs one of `signalChecks` on every model variant (throws on the first failure). */
export const runSignalCheck = (check: keyof typeof signalChecks, signal: Signal.Signal, options: SignalSuiteOptions = {}): void =>
  withWorlds(signal, options, (w, label) => signalChecks[check](signal, w, label))

/** Registers the conformance tests of one signal. */
export const signalConformance = (id: string, source: SignalSource, options: SignalSuiteOptions = {}): void => {
  describe(`signal conformance: ${id}`, () => {
    beforeAll(async () => {
      await tf.setBackend("cpu")
      await tf.ready()
    })
    const signal = () => makeSignal(source, options.options)
    it("builds; declares needs", () => {
      const s = signal()
      if (typeof s.compute !== "function") fail(`${id}: compute is not a function`)
      if (typeof s.needs !== "object" || s.needs === null) fail(`${id}: needs is not an object`)
    })
    for (const [name, check] of Object.entries(signalChecks)) {
      it(name, () => {
        const s = signal()
        withWorlds(s, options, (w, label) => check(s, w, `${id} on ${label}`))
      })
    }
    it("leaves no tensor behind over the whole suite", () => {
      const s = signal()
      const live = tf.memory().numTensors
      withWorlds(s, options, () => {})
      if (tf.memory().numTensors !== live) fail(`${id}: ${tf.memory().numTensors - live} tensors left behind`)
    })
    it("uses no randomness: Math.random is never called", () => {
      const s = signal()
      const original = Math.random
      let calls = 0
      Math.random = () => {
        calls++
        return original()
      }
      try {
        withWorlds(s, options, (w) => computeAll(s, w.model.topology, w.observed.capture))
      } finally {
        Math.random = original
      }
      if (calls > 0) fail(`${id}: Math.random was called ${calls} times (signals must be deterministic)`)
    })
  })
}
