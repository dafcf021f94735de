/**
 * The numeric core of training: parameters as TF.js Variables, one optimizer step (forward,
 * loss, gradients, update, assign) in a single `tf.tidy`, and evaluation over fixed batches.
 * Synchronous and Effect-free; the Trainer drives it and turns its results into events.
 */
import { type Optimizer, type Params, RunError } from "@rekindle/core"
import type { BatchTensors, ForwardOptions, Transformer } from "@rekindle/model"
import * as tf from "@tensorflow/tfjs-core"
// TF.js registers op gradients only when asked (see @rekindle/engine/Gradients).
import "@rekindle/engine/Gradients"

let runCounter = 0

/** `tf.tidy` for results that hold tensors inside plain objects (optimizer states). */
const tidy = <T>(f: () => T): T => tf.tidy(f as () => tf.TensorContainer) as T

/** Mutable training state: variables by parameter name and the optimizer state. */
export interface TrainLoop {
  readonly model: Transformer.Transformer
  readonly optimizer: Optimizer.Optimizer
  /** Parameters by name (Variables; assign only, never edit memory in place). */
  readonly params: Readonly<Record<string, tf.Variable>>
  /** Optimizer state after the last step (replaced, never mutated). */
  readonly optState: () => Optimizer.OptState
  /** Replaces the optimizer state (recycling resets slots); the old state's tensors are disposed. */
  readonly setOptState: (state: Optimizer.OptState) => void
  /** Optimizer steps done so far. */
  readonly stepsDone: () => number
  /**
   * One optimizer step on a batch; returns the loss (a kept scalar the caller disposes). Throws a
   * RunError, before touching any parameter, when the loss is not finite.
   */
  readonly step: (batch: BatchTensors, options?: ForwardOptions) => tf.Scalar
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
  let opt = tidy(() => optimizer.init(params))
  let done = 0

  const step = (batch: BatchTensors, options?: ForwardOptions): tf.Scalar => {
    const result = tidy(() => {
      const { value, grads } = tf.variableGrads(() => model.loss(params, batch, options), varList)
      const byName: Record<string, tf.Tensor> = {}
      for (const name of names) {
        const g = grads[prefix + name]
        if (g === undefined) throw new RunError({ step: done, message: `no gradient for parameter ${name}` })
        byName[name] = g
      }
      const lossValue = value.dataSync()[0]!
      if (!Number.isFinite(lossValue)) {
        const bad = nonFiniteParams(params)
        throw new RunError({
          step: done + 1,
          message: `loss became ${lossValue} at step ${done + 1}; ` +
            (bad.length > 0
              ? `first non-finite parameter: ${bad[0]}`
              : "all parameters are finite (the forward pass overflowed); the last good parameters are kept")
        })
      }
      const [updates, next] = optimizer.update(byName, opt, params)
      for (const name of names) {
        const u = updates[name]
        if (u !== undefined) params[name]!.assign(tf.add(params[name]!, u))
      }
      return { loss: value, next }
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
    optimizer,
    params,
    optState: () => opt,
    setOptState: (state) => {
      disposeReplaced(opt, state)
      opt = state
    },
    stepsDone: () => done,
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
