/**
 * The numeric core of training: parameters as TF.js Variables, one optimizer step (forward,
 * loss, gradients, update, assign) in a single `tf.tidy`, and evaluation over fixed batches.
 * Synchronous and Effect-free; the Trainer drives it and turns its results into events.
 */
import { Bug, type Loop, type Optimizer, type Params, RunError, type StepOptions } from "@rekindle/core"
import { tidy } from "@rekindle/engine"
import type { BatchTensors, ForwardOptions, Transformer } from "@rekindle/model"
import * as tf from "@tensorflow/tfjs-core"
// TF.js registers op gradients only when asked (see @rekindle/engine/Gradients).
import "@rekindle/engine/Gradients"

let runCounter = 0

export type { DecoupledUpdate, StepObservation, StepObserver, StepOptions } from "@rekindle/core"

/** Mutable training state: the hooks' `Loop` (variables by name, optimizer and its state) plus the step itself. */
export interface TrainLoop extends Loop {
  readonly model: Transformer.Transformer
  /**
   * One optimizer step on a batch; returns the loss (a kept scalar the caller disposes). Throws a
   * RunError, before touching any parameter, when the loss is not finite.
   */
  readonly step: (batch: BatchTensors, options?: ForwardOptions, stepOptions?: StepOptions) => tf.Scalar
  /** Mean loss and accuracy over fixed batches. */
  readonly evaluate: (batches: ReadonlyArray<BatchTensors>, options?: ForwardOptions) => { loss: number; accuracy: number; count: number }
  /** Disposes variables and optimizer state. */
  readonly dispose: () => void
}

const disposeReplaced = (old: Optimizer.OptState, next: Optimizer.OptState) => {
  const keep = new Set<tf.Tensor>()
  for (const slot of Object.values(next.slots)) for (const t of Object.values(slot)) keep.add(t)
  for (const slot of Object.values(old.slots)) for (const t of Object.values(slot)) if (!keep.has(t)) t.dispose()
}

/** The next state with every slot entry of frozen parameters carried over from the old state (same tensors). */
const carrySlots = (old: Optimizer.OptState, next: Optimizer.OptState): Optimizer.OptState => {
  const slots: Record<string, Params.ParamMap> = { ...next.slots }
  for (const [name, slot] of Object.entries(old.slots)) slots[name] = { ...slot, ...next.slots[name] }
  return { count: next.count, slots }
}

/** Builds the training state from initial values (which it takes ownership of). */
export const make = (
  model: Transformer.Transformer,
  optimizer: Optimizer.Optimizer,
  initial: Record<string, tf.Tensor>
): TrainLoop => {
  const prefix = `rekindle${runCounter++}/`
  const names = Object.keys(initial).sort()
  const params: Record<string, tf.Variable> = {}
  for (const name of names) {
    params[name] = tf.variable(initial[name]!, true, prefix + name)
    initial[name]!.dispose()
  }
  const varList = names.map((n) => params[n]!)
  let current = optimizer
  let opt = tidy(() => optimizer.init(params))
  let done = 0

  /** The parameters a step trains (every one, or the `trainable` subset in name order). */
  const trainedNames = (trainable: ReadonlyArray<string> | undefined): ReadonlyArray<string> => {
    if (trainable === undefined) return names
    const wanted = new Set(trainable)
    for (const n of wanted) if (params[n] === undefined) throw new Bug(`TrainLoop: trainable parameter "${n}" does not exist`)
    return names.filter((n) => wanted.has(n))
  }

  const step = (batch: BatchTensors, options?: ForwardOptions, stepOptions?: StepOptions): tf.Scalar => {
    const trained = trainedNames(stepOptions?.trainable)
    const vars = trained === names ? varList : trained.map((n) => params[n]!)
    const masks = stepOptions?.masks
    const decoupled = stepOptions?.decoupled ?? []
    const observers = stepOptions?.observers ?? []
    const captureHidden = observers.some((o) => o.hidden)
    const taps = observers.flatMap((o) => (o.tap === undefined ? [] : [o.tap]))
    const nLayers = model.topology.layers.length
    const hidden: Array<tf.Tensor2D | undefined> = captureHidden ? Array.from({ length: nLayers }) : []
    const hiddenGrad: Array<tf.Tensor2D | undefined> = captureHidden ? Array.from({ length: nLayers }) : []
    const stepForward: ForwardOptions | undefined = captureHidden || taps.length > 0
      ? {
        ...options,
        hiddenGrad: (l, h, dh) => {
          // taps reduce h and ∂L/∂h now, at backward time (the observers' params and opt are the pre-update ones)
          for (const tap of taps) tap({ ffLayer: l, hidden: h, hiddenGrad: dh, params, opt })
          if (!captureHidden) return
          // copies (shared data, no memcpy) kept past the backward pass's own tidy, disposed below
          hidden[l] = tf.keep(tf.clone(h))
          hiddenGrad[l] = tf.keep(tf.clone(dh))
        }
      }
      : options
    /** Forward, backward, observers, update: everything of the step inside one tidy. */
    const stepBody = () => {
      const { value, grads } = tf.variableGrads(() => model.loss(params, batch, stepForward), vars)
      const byName: Record<string, tf.Tensor> = {}
      for (const name of trained) {
        const g = grads[prefix + name]
        if (g === undefined) throw new RunError({ step: done, message: `no gradient for parameter ${name}` })
        const m = masks?.[name]
        byName[name] = m === undefined ? g : tf.mul(g, m)
      }
      const lossValue = value.dataSync()[0]!
      if (!Number.isFinite(lossValue)) {
        const bad = nonFiniteParams(params)
        throw new RunError({
          step: done + 1,
          message: `loss became ${lossValue} at step ${done + 1}; ` +
            (bad.length > 0
              ? `first non-finite parameter: ${bad[0]}`
              : "all parameters are finite (the forward pass overflowed); this step's update was not applied")
        })
      }
      if (observers.length > 0) {
        const raw: Record<string, tf.Tensor> = {}
        for (const name of trained) raw[name] = grads[prefix + name]!
        for (const o of observers) o.observe({ params, grads: raw, hidden, hiddenGrad, opt })
      }
      const lr = decoupled.length > 0 ? current.learningRate(opt.count) : 0
      const trainedParams = trained === names ? params : Object.fromEntries(trained.map((n) => [n, params[n]!]))
      /** The trained parameters' new values (a parameter without one is left as it is) and the next state. */
      const updated = (): readonly [Record<string, tf.Tensor | undefined>, Optimizer.OptState] => {
        if (current.apply !== undefined && decoupled.length === 0 && trained.every((n) => masks?.[n] === undefined)) {
          // nothing to add to the updates: the optimizer returns params + updates (its add fused, same bits)
          return current.apply(byName, opt, trainedParams)
        }
        const [updates, after] = current.update(byName, opt, trainedParams)
        // decoupled deltas see the pre-update parameters (all computed before any assign)
        const deltas = decoupled.map((d) => d(params, lr))
        const values: Record<string, tf.Tensor> = {}
        for (const name of trained) {
          let u = updates[name]
          for (const d of deltas) {
            const x = d[name]
            if (x !== undefined) u = u === undefined ? x : tf.add(u, x)
          }
          if (u === undefined) continue
          const m = masks?.[name]
          if (m !== undefined) u = tf.mul(u, m)
          values[name] = tf.add(params[name]!, u)
        }
        return [values, after]
      }
      const [values, after] = updated()
      for (const name of trained) {
        const p = values[name]
        if (p !== undefined) params[name]!.assign(p)
      }
      return { loss: value, next: trained === names ? after : carrySlots(opt, after) }
    }
    const result = tidy(() => {
      try {
        return stepBody()
      } finally {
        tf.dispose([...hidden, ...hiddenGrad].filter((t): t is tf.Tensor2D => t !== undefined))
      }
    })
    disposeReplaced(opt, result.next)
    opt = result.next
    done++
    return result.loss as tf.Scalar
  }

  const evaluate = (batches: ReadonlyArray<BatchTensors>, options?: ForwardOptions) => {
    let lossSum = 0
    let correct = 0
    let count = 0
    for (const b of batches) {
      const r = tf.tidy(() => {
        const e = model.evaluate(params, b, options)
        return { l: e.lossSum.dataSync()[0]!, c: e.correct.dataSync()[0]!, n: e.count }
      })
      lossSum += r.l
      correct += r.c
      count += r.n
    }
    return { loss: lossSum / Math.max(1, count), accuracy: correct / Math.max(1, count), count }
  }

  return {
    model,
    get optimizer() {
      return current
    },
    params,
    optState: () => opt,
    setOptState: (state) => {
      disposeReplaced(opt, state)
      opt = state
    },
    swapOptimizer: (next, state) => {
      const previous = { optimizer: current, state: opt }
      opt = state ?? tidy(() => next.init(params))
      current = next
      return previous
    },
    stepsDone: () => done,
    setStepsDone: (steps) => {
      done = steps
    },
    step,
    evaluate,
    dispose: () => {
      for (const v of varList) v.dispose()
      disposeReplaced(opt, { count: 0, slots: {} })
    }
  }
}

/** Names of the first non-finite parameters (empty when all are finite). Reads back one scalar per parameter. */
export const nonFiniteParams = (params: Params.ParamMap): Array<string> =>
  tf.tidy(() =>
    Object.keys(params).sort().filter((name) => {
      const t = params[name]!
      return tf.any(tf.logicalNot(tf.isFinite(t))).dataSync()[0] === 1
    })
  )
