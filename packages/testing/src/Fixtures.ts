/**
 * Tiny-model fixtures for tests: a small transformer config, its parameters (perturbed so that no
 * parameter sits at a special value such as an all-zero bias), a probe batch, an optimizer state
 * whose slots are non-trivial, and synthetic per-neuron `Signals`. Everything is deterministic
 * for its seed; the caller owns (and disposes) every tensor returned.
 */
import { type Batch, Key, Optimizer, type Params, type Selection, type Signals, type Topology } from "@rekindle/core"
import { type BatchTensors, type ModelConfig, Transformer } from "@rekindle/model"
import { tidy } from "@rekindle/engine"
import * as tf from "@tensorflow/tfjs-core"

/** A 2-layer model with d = 8, dFF = 12, FF biases, seqLen 6, vocabulary 16. */
export const tinyConfig = (overrides: Partial<ModelConfig> = {}): ModelConfig => ({
  dModel: 8,
  heads: 2,
  layers: 2,
  dFF: 12,
  seqLen: 6,
  vocabSize: 16,
  activation: "relu",
  ffBias: true,
  causal: false,
  finalLayerNorm: true,
  ...overrides
})

/**
 * The model variants the suites run on by default: ReLU with FF biases, GELU without (3 layers),
 * and SwiGLU with biases (neuron i includes the gate column).
 */
export const modelVariants: ReadonlyArray<Partial<ModelConfig>> = [
  { ffBias: true },
  { ffBias: false, activation: "gelu", layers: 3 },
  { ffBias: true, activation: "swiglu" }
]

/** The transformer of `tinyConfig(overrides)`. */
export const tinyModel = (overrides: Partial<ModelConfig> = {}): Transformer.Transformer =>
  Transformer.make(tinyConfig(overrides))

/** Deterministic values in [-1, 1) of a shape, from a key. */
export const uniformTensor = (shape: ReadonlyArray<number>, key: Key.Key): tf.Tensor => {
  const u = Key.uniform(key)
  const size = shape.reduce((a, b) => a * b, 1)
  return tf.tensor(Float32Array.from({ length: size }, () => 2 * u() - 1), [...shape], "float32")
}

/**
 * The model's init for `seed`, plus uniform noise of `jitter` (default 0.1) on every parameter
 * (biases are no longer 0, gains no longer 1), as plain tensors.
 */
export const tinyParams = (model: Transformer.Transformer, seed = 1, jitter = 0.1): Record<string, tf.Tensor> =>
  tf.tidy(() => {
    const root = Key.make(seed)
    const init = model.init(Key.split(root, "init"))
    const out: Record<string, tf.Tensor> = {}
    for (const name of Object.keys(init)) {
      out[name] = tf.add(init[name]!, tf.mul(uniformTensor(init[name]!.shape, Key.split(Key.split(root, "jitter"), name)), jitter))
    }
    return out
  })

/** A batch of random token ids in which every position is a target. */
export const tinyBatch = (config: ModelConfig, seed = 1, batchSize = 2): BatchTensors => {
  const u = Key.uniform(Key.split(Key.make(seed), "batch"))
  const n = batchSize * config.seqLen
  const ids = Int32Array.from({ length: n }, () => Math.floor(u() * config.vocabSize))
  const targets = Int32Array.from({ length: n }, () => Math.floor(u() * config.vocabSize))
  return {
    inputIds: tf.tensor2d(ids, [batchSize, config.seqLen], "int32"),
    targetPositions: tf.tensor1d(Int32Array.from({ length: n }, (_, i) => i), "int32"),
    targetIds: tf.tensor1d(targets, "int32"),
    batchSize,
    seqLen: config.seqLen
  }
}

/**
 * A stream of random batches for `config` (every position a target), batch `i` drawn from
 * `(seed, i)` alone, starting at batch `from` (a resumed run's stream continues where it was).
 */
export const tinyStream = (config: ModelConfig, seed = 1, batchSize = 2, from = 0) => {
  let index = from
  const next = (): Batch.Batch => {
    const u = Key.uniform(Key.fold(Key.split(Key.make(seed), "stream"), index++))
    const n = batchSize * config.seqLen
    return {
      batchSize,
      seqLen: config.seqLen,
      inputIds: Int32Array.from({ length: n }, () => Math.floor(u() * config.vocabSize)),
      targetPositions: Int32Array.from({ length: n }, (_, i) => i),
      targetIds: Int32Array.from({ length: n }, () => Math.floor(u() * config.vocabSize))
    }
  }
  return { next, position: () => ({ epoch: 0, index }) }
}

/**
 * A minimal Adam-shaped optimizer (slots `adam.mu` and `adam.nu`, Adam's names, no bias
 * correction) at learning rate `lr`, warmed up linearly over `warmup` steps, so the suites run
 * real first and second moments without depending on an optimizer plugin.
 */
export const adamLike = (lr: number, warmup = 0): Optimizer.Optimizer => {
  const learningRate = (count: number) => (warmup > 0 ? lr * Math.min(1, (count + 1) / warmup) : lr)
  return {
    name: "adam-shaped (kit fixture)",
    slots: { "adam.mu": { role: "moment", reset: 0 }, "adam.nu": { role: "moment", reset: 0 } },
    init: (params) => ({
      count: 0,
      slots: {
        "adam.mu": Object.fromEntries(Object.entries(params).map(([n, p]) => [n, tf.zerosLike(p)])),
        "adam.nu": Object.fromEntries(Object.entries(params).map(([n, p]) => [n, tf.zerosLike(p)]))
      }
    }),
    update: (grads, state) => {
      const mu: Record<string, tf.Tensor> = {}
      const nu: Record<string, tf.Tensor> = {}
      const updates: Record<string, tf.Tensor> = {}
      const rate = learningRate(state.count)
      for (const [n, g] of Object.entries(grads)) {
        mu[n] = tf.add(tf.mul(state.slots["adam.mu"]![n]!, 0.9), tf.mul(g, 0.1))
        nu[n] = tf.add(tf.mul(state.slots["adam.nu"]![n]!, 0.999), tf.mul(tf.square(g), 0.001))
        updates[n] = tf.mul(tf.div(mu[n]!, tf.add(tf.sqrt(nu[n]!), 1e-8)), -rate)
      }
      return [updates, { count: state.count + 1, slots: { "adam.mu": mu, "adam.nu": nu } }]
    },
    learningRate
  }
}

/** `adamLike(1e-3)`: the optimizer state the signal suite reads second moments from. */
export const adamShaped: Optimizer.Optimizer = adamLike(1e-3)

/** The state of `optimizer` after `steps` updates on random gradients (the params are not changed). */
export const tinyOptState = (
  optimizer: Optimizer.Optimizer,
  params: Params.ParamMap,
  steps = 3,
  seed = 1
): Optimizer.OptState => {
  let state = tidy(() => optimizer.init(params))
  for (let s = 0; s < steps; s++) {
    const next = tidy(() => {
      const grads: Record<string, tf.Tensor> = {}
      for (const name of Object.keys(params)) {
        grads[name] = uniformTensor(params[name]!.shape, Key.fold(Key.split(Key.make(seed), `grad/${name}`), s))
      }
      return optimizer.update(grads, state, params)[1]
    })
    const kept = new Set(Optimizer.stateTensors(next))
    for (const t of Optimizer.stateTensors(state)) if (!kept.has(t)) t.dispose()
    state = next
  }
  return state
}

/** Disposes every tensor of an optimizer state. */
export const disposeState = (state: Optimizer.OptState): void => {
  for (const t of new Set(Optimizer.stateTensors(state))) t.dispose()
}

/** A topology of FF layers with the given widths (parameter names `layers.{l}.ff.*`, no bias). */
export const syntheticTopology = (widths: ReadonlyArray<number>, dModel = 4): Topology.Topology => ({
  layers: widths.map((dFF, layer) => ({
    layer,
    dModel,
    dFF,
    win: `layers.${layer}.ff.win`,
    wout: `layers.${layer}.ff.wout`,
    slices: [
      { param: `layers.${layer}.ff.win`, axis: 1, role: "in" },
      { param: `layers.${layer}.ff.wout`, axis: 0, role: "out" }
    ]
  }))
})

/**
 * Synthetic signals for a topology: random norms, magnitudes and activations with deliberate ties
 * (values rounded to a coarse grid) and about a quarter of each layer silent (mean |h| = 0,
 * firing rate 0), so rank, threshold and tie-breaking paths are all exercised. `values` names the
 * signal-plugin values to fill (`LayerSignals.values`): non-negative, on the same grid, a quarter 0.
 */
export const syntheticSignals = (topology: Topology.Topology, seed = 1, step = 0, values: ReadonlyArray<string> = []): Signals => ({
  step,
  layers: topology.layers.map((l) => {
    const u = Key.uniform(Key.fold(Key.split(Key.make(seed), "signals"), l.layer))
    const grid = (x: number) => Math.round(x * 8) / 8
    const inNorm = Float32Array.from({ length: l.dFF }, () => 0.5 + grid(u()))
    const outNorm = Float32Array.from({ length: l.dFF }, () => 0.5 + grid(u()))
    const silent = Array.from({ length: l.dFF }, () => u() < 0.25)
    return {
      layer: l.layer,
      dFF: l.dFF,
      inNorm,
      outNorm,
      magnitude: inNorm.map((x, i) => x * outNorm[i]!),
      outL1: outNorm.map((x) => 2 * x),
      activations: {
        meanAbs: Float32Array.from(silent, (s) => (s ? 0 : grid(u()) + 0.05)),
        firingRate: Float32Array.from(silent, (s) => (s ? 0 : grid(u())))
      },
      ...(values.length > 0
        ? { values: Object.fromEntries(values.map((name) => [name, Float32Array.from(silent, (s) => (s ? 0 : grid(u()) + 0.01))])) }
        : {})
    }
  })
})

/**
 * A selection request over FF layers of the given widths, every neuron eligible, for behaviour
 * tests of criteria: `k` neurons from each layer (`per-layer`) or `k` in all (`global`), with
 * `fraction` for the criteria that read it (threshold, Bernoulli; default 0.5).
 */
export const selectRequest = (
  widths: ReadonlyArray<number>,
  k: number,
  scope: Selection.SelectRequest["scope"] = "per-layer",
  fraction = 0.5
): Selection.SelectRequest => ({
  scope,
  fraction,
  k: widths.map(() => k),
  total: scope === "global" ? k : k * widths.length,
  eligible: widths.map((w) => new Uint8Array(w).fill(1))
})
