/**
 * The hook suite itself: it passes on a correct stateful hook written here against the core
 * contract alone, and each check fails on one broken in the way it guards against (hidden state,
 * Math.random, a decoupled update that assigns, mutated options, non-finite deltas, a leak).
 */
import { type DecoupledUpdate, Event, EventBus, type HookPart, Plugin, type StepHook } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import { Effect, Schema } from "effect"
import { beforeAll, describe, expect, it } from "vitest"
import { hookChecks, hookConformance, hookSetup } from "../src/HookSuite.ts"

const Options = Schema.Struct({
  rate: Schema.Finite.pipe(Schema.withDecodingDefaultKey(Effect.succeed(0.05)))
})

interface Variant {
  /** Leave out the checkpoint state (the counter is then hidden state). */
  readonly stateless?: boolean
  /** The decoupled update's delta, given the reference one. */
  readonly delta?: (reference: tf.Tensor, w: tf.Variable | tf.Tensor) => tf.Tensor
  readonly mutateOptions?: boolean
  readonly leak?: boolean
}

/**
 * A shrinking decay of the FF input weights: each update adds −lr · rate/(1 + fired) · W, where
 * `fired` counts the steps so far (the hook's state); a `Scalar` "fired" every `logEvery` steps.
 */
const decay = (v: Variant = {}) =>
  Plugin.part<"hooks">()({
    description: "shrinking decay of W_in (suite fixture)",
    options: Options,
    make: (options) =>
      Effect.sync((): HookPart => {
        if (v.mutateOptions === true) (options as { rate: number }).rate = 1
        return {
          describe: () => ({ summary: `decay at ${options.rate}` }),
          build: (run) =>
            Effect.sync((): StepHook => {
              let fired = 0
              const update: DecoupledUpdate = (params, lr) => {
                const out: Record<string, tf.Tensor> = {}
                for (const l of run.model.topology.layers) {
                  const reference = tf.mul(params[l.win]!, -lr * options.rate / (1 + fired))
                  out[l.win] = v.delta !== undefined ? v.delta(reference, params[l.win]!) : reference
                }
                return out
              }
              return {
                before: (step) =>
                  Effect.gen(function*() {
                    fired++
                    if (v.leak === true) tf.keep(tf.scalar(fired))
                    if (step % run.logEvery === 0) yield* (yield* EventBus).emit(Event.Scalar.make({ step, probe: "decay", name: "fired", value: fired }))
                    return undefined
                  }),
                stepOptions: () => ({ decoupled: [update] }),
                ...(v.stateless === true ? {} : {
                  state: {
                    name: "decay",
                    save: () => ({ json: { fired }, tensors: {} }),
                    load: (json) => {
                      fired = (json as { fired: number }).fired
                    }
                  }
                })
              }
            })
        }
      })
  })

hookConformance("a correct reference hook", decay(), { options: { rate: 0.1 } })

describe("hook suite catches", { timeout: 120_000 }, () => {
  beforeAll(async () => {
    await tf.setBackend("cpu")
  })
  const config = { ffBias: true }

  it("state the hook keeps but does not checkpoint", async () => {
    await expect(hookChecks.resumes(hookSetup("hidden", decay({ stateless: true })), config)).rejects.toThrow(/resumed after step 6 vs uninterrupted: parameters differ/)
  })

  it("Math.random", async () => {
    const noisy = decay({ delta: (r) => tf.add(r, Math.random() * 1e-3) })
    await expect(hookChecks.runs(hookSetup("noisy", noisy), config)).rejects.toThrow(/Math.random was called/)
    await expect(hookChecks.deterministic(hookSetup("noisy", noisy), config)).rejects.toThrow(/two runs: parameters differ/)
  })

  it("a decoupled update that assigns to the parameters", async () => {
    const assigning = decay({
      delta: (r, w) => {
        ;(w as tf.Variable).assign(tf.add(w, r))
        return tf.zerosLike(r)
      }
    })
    await expect(hookChecks.runs(hookSetup("assigning", assigning), config)).rejects.toThrow(/a decoupled update changed parameter/)
  })

  it("a make that mutates its options", async () => {
    await expect(hookChecks.options(hookSetup("mutating", decay({ mutateOptions: true })))).rejects.toThrow(/mutated its options/)
  })

  it("a non-finite delta", async () => {
    const nan = decay({ delta: (r) => tf.mul(r, Number.NaN) })
    await expect(hookChecks.runs(hookSetup("nan", nan), config)).rejects.toThrow(/decoupled delta of .* is not finite/)
  })

  it("a tensor left behind", async () => {
    await expect(hookChecks.runs(hookSetup("leaky", decay({ leak: true })), config)).rejects.toThrow(/tensors left behind/)
  })
})
