/**
 * Reinitializer conformance suite for plugin authors. `reinitConformance(id, source)` registers
 * vitest tests checking the core `Reinitializer` contract on a tiny transformer (with and without
 * FF biases): replacements only for existing parameters, shapes and dtypes preserved, finite
 * values, only the chosen slices change (for `slicesOnly` reinitializers), an empty selection
 * changes nothing, the same key gives the same values, inputs are not disposed, no tensor leaks,
 * and a well-formed `blend`. `source` is a plugin part (options decoded from `options.options`,
 * default `{}`) or a factory. The checks are also exported (`reinitChecks`) as plain functions.
 */
import { Key, Plugin, type Reinitializer, type ReinitContext, type Selection, Slices, type Topology } from "@rekindle/core"
import type { ModelConfig, Transformer } from "@rekindle/model"
import "@tensorflow/tfjs-backend-cpu"
import * as tf from "@tensorflow/tfjs-core"
import { beforeAll, describe, it } from "vitest"
import { modelVariants, tinyModel, tinyParams } from "./Fixtures.ts"
import { build, fail } from "./Options.ts"

/** A reinitializer part or a factory of reinitializers. */
export type ReinitSource = Plugin.Part<"reinitializers", any, any> | (() => Reinitializer)

/** Options of the suite. */
export interface ReinitSuiteOptions {
  /** Part options, decoded by the part's schema (parts only; default `{}`). */
  readonly options?: unknown
  /** Model variants to run on (default: tiny with FF biases, tiny GELU without, and tiny SwiGLU with biases). */
  readonly configs?: ReadonlyArray<Partial<ModelConfig>>
}

/** Builds a fresh reinitializer from a part (decoding `options`) or a factory. */
export const makeReinit = (source: ReinitSource, options: unknown = {}): Reinitializer => build("makeReinit", source, options)

/** The selections the suite applies: a few neurons per layer, one whole layer, and nothing. */
export const selectionsFor = (topology: Topology.Topology): Array<[string, Selection.Selection]> => {
  const pick = (f: (p: number, dFF: number) => Array<number>): Selection.Selection => ({
    layers: topology.layers.map((l, p) => {
      const indices = f(p, l.dFF)
      return { layer: p, indices, scores: indices.map(() => 0) }
    })
  })
  return [
    ["a few per layer", pick((p, n) => (p === 0 ? [0, 3, n - 1] : p === 1 ? [] : [p % n]))],
    ["all of layer 0", pick((p, n) => (p === 0 ? Array.from({ length: n }, (_, i) => i) : [1]))],
    ["none", pick(() => [])]
  ]
}

interface World {
  readonly model: Transformer.Transformer
  readonly params: Record<string, tf.Tensor>
}

const withWorlds = (options: ReinitSuiteOptions, f: (w: World, label: string) => void) => {
  for (const config of options.configs ?? modelVariants) {
    const model = tinyModel(config)
    const params = tinyParams(model, 7)
    try {
      f({ model, params }, JSON.stringify(config))
    } finally {
      for (const t of Object.values(params)) t.dispose()
    }
  }
}

const contextOf = (w: World, selection: Selection.Selection, key: Key.Key): ReinitContext => ({
  step: 10,
  params: w.params,
  topology: w.model.topology,
  selection,
  key,
  initial: w.model.initParam
})

const keyFor = (i: number) => Key.fold(Key.split(Key.make(5), "reinit"), i)

const applyKept = (reinit: Reinitializer, ctx: ReinitContext): Record<string, tf.Tensor> =>
  tf.tidy(() => reinit.apply(ctx) as unknown as tf.TensorContainer) as unknown as Record<string, tf.Tensor>

const disposeOut = (out: Record<string, tf.Tensor>, params: Record<string, tf.Tensor>) => {
  const inputs = new Set(Object.values(params))
  for (const t of new Set(Object.values(out))) if (!inputs.has(t)) t.dispose()
}

/** Which neuron indices of each returned parameter differ from the current value (by layer slice). */
export const changedSlices = (
  topology: Topology.Topology,
  params: Record<string, tf.Tensor>,
  out: Record<string, tf.Tensor>
): Array<{ param: string; layer: number | undefined; changed: Array<number> }> =>
  Object.keys(out).map((name) => {
    const slice = topology.layers.flatMap((l, p) => l.slices.filter((s) => s.param === name).map((s) => ({ p, axis: s.axis })))[0]
    const axis = slice?.axis ?? 0
    const counts = tf.tidy(() => Slices.changedAlong(params[name]!, out[name]!, axis).dataSync())
    const changed: Array<number> = []
    counts.forEach((c, i) => {
      if (c > 0) changed.push(i)
    })
    return { param: name, layer: slice?.p, changed }
  })

/** The checks of the suite, each a plain function that throws an Error describing the violation. */
export const reinitChecks = {
  /** Replacements name existing parameters, keep their shapes and dtypes, and are finite. */
  shapes: (source: ReinitSource, options: ReinitSuiteOptions = {}): void =>
    withWorlds(options, (w, label) => {
      const reinit = makeReinit(source, options.options)
      selectionsFor(w.model.topology).forEach(([name, sel], i) => {
        const out = applyKept(reinit, contextOf(w, sel, keyFor(i)))
        try {
          for (const [param, t] of Object.entries(out)) {
            const old = w.params[param] ?? fail(`${label}, ${name}: replacement for unknown parameter "${param}"`)
            if (t.shape.join() !== old.shape.join()) fail(`${label}, ${name}: "${param}" has shape [${t.shape}], expected [${old.shape}]`)
            if (t.dtype !== old.dtype) fail(`${label}, ${name}: "${param}" has dtype ${t.dtype}, expected ${old.dtype}`)
            if (tf.tidy(() => tf.all(tf.isFinite(t)).dataSync()[0]) !== 1) fail(`${label}, ${name}: "${param}" has non-finite values`)
          }
        } finally {
          disposeOut(out, w.params)
        }
      })
    }),

  /** For `slicesOnly` reinitializers: values differ only on the chosen neurons' slices; none at all for an empty selection. */
  slicesOnly: (source: ReinitSource, options: ReinitSuiteOptions = {}): void =>
    withWorlds(options, (w, label) => {
      const reinit = makeReinit(source, options.options)
      if (!reinit.slicesOnly) return
      selectionsFor(w.model.topology).forEach(([name, sel], i) => {
        const out = applyKept(reinit, contextOf(w, sel, keyFor(i)))
        try {
          for (const c of changedSlices(w.model.topology, w.params, out)) {
            if (c.layer === undefined) {
              if (c.changed.length > 0) fail(`${label}, ${name}: changed "${c.param}", which holds no neuron slice`)
              continue
            }
            const chosen = new Set(sel.layers[c.layer]!.indices)
            const stray = c.changed.filter((i) => !chosen.has(i))
            if (stray.length > 0) fail(`${label}, ${name}: changed unchosen neurons [${stray.join(", ")}] of "${c.param}"`)
          }
        } finally {
          disposeOut(out, w.params)
        }
      })
    }),

  /** The same context and key give identical values. */
  deterministic: (source: ReinitSource, options: ReinitSuiteOptions = {}): void =>
    withWorlds(options, (w, label) => {
      selectionsFor(w.model.topology).forEach(([name, sel], i) => {
        const a = applyKept(makeReinit(source, options.options), contextOf(w, sel, keyFor(i)))
        const b = applyKept(makeReinit(source, options.options), contextOf(w, sel, keyFor(i)))
        try {
          if (Object.keys(a).sort().join() !== Object.keys(b).sort().join()) fail(`${label}, ${name}: two applications returned different parameters`)
          for (const p of Object.keys(a)) {
            const same = tf.tidy(() => tf.sum(Slices.changedAlong(a[p]!, b[p]!, 0)).dataSync()[0])
            if (same !== 0) fail(`${label}, ${name}: "${p}" differs between two applications with the same key`)
          }
        } finally {
          disposeOut(a, w.params)
          disposeOut(b, w.params)
        }
      })
    }),

  /** `apply` disposes none of its inputs and, inside `tf.tidy`, keeps only its results. */
  leaks: (source: ReinitSource, options: ReinitSuiteOptions = {}): void =>
    withWorlds(options, (w, label) => {
      const reinit = makeReinit(source, options.options)
      selectionsFor(w.model.topology).forEach(([name, sel], i) => {
        const before = tf.memory().numTensors
        const out = applyKept(reinit, contextOf(w, sel, keyFor(i)))
        const inputs = new Set(Object.values(w.params))
        const fresh = new Set(Object.values(out).filter((t) => !inputs.has(t))).size
        const leaked = tf.memory().numTensors - before - fresh
        disposeOut(out, w.params)
        const disposed = Object.entries(w.params).filter(([, t]) => t.isDisposed).map(([n]) => n)
        if (disposed.length > 0) fail(`${label}, ${name}: apply disposed its input parameters ${disposed.join(", ")}`)
        if (leaked !== 0) fail(`${label}, ${name}: ${leaked} tensors leaked besides the ${fresh} results`)
      })
    }),

  /** A `blend` declares a positive whole number of steps. */
  blend: (source: ReinitSource, options: ReinitSuiteOptions = {}): void => {
    const reinit = makeReinit(source, options.options)
    if (reinit.blend === undefined) return
    if (!Number.isInteger(reinit.blend.steps) || reinit.blend.steps < 1) fail(`blend.steps is ${reinit.blend.steps}, expected a positive integer`)
  }
}

/** Registers the conformance tests of a reinitializer (part or factory) under `reinit <id>`. */
export const reinitConformance = (id: string, source: ReinitSource, options: ReinitSuiteOptions = {}): void => {
  describe(`reinitializer ${id} (conformance)`, () => {
    beforeAll(async () => {
      await tf.setBackend("cpu")
    })
    it("replaces existing parameters with finite values of the same shape and dtype", () => reinitChecks.shapes(source, options))
    it("changes only the chosen neurons' slices (slicesOnly)", () => reinitChecks.slicesOnly(source, options))
    it("is deterministic for a key", () => reinitChecks.deterministic(source, options))
    it("disposes no input and leaks no tensors", () => reinitChecks.leaks(source, options))
    it("declares a well-formed blend", () => reinitChecks.blend(source, options))
  })
}
