/**
 * The signal suite itself: it passes on a correct signal written here against the core contract
 * alone, and each check fails on one broken in the way it guards against.
 */
import type { Signal } from "@rekindle/core"
import "@tensorflow/tfjs-backend-cpu"
import * as tf from "@tensorflow/tfjs-core"
import { beforeAll, describe, expect, it } from "vitest"
import { runSignalCheck, signalConformance } from "../src/SignalSuite.ts"

/** |mean_t h·∂L/∂h|: correct. */
const good = (): Signal.Signal => ({
  needs: { step: true },
  compute: (v) => tf.abs(tf.mean(tf.mul(v.hidden!, v.hiddenGrad!), 0)) as tf.Tensor1D
})

signalConformance("a correct reference signal", good)

/** The same, computed in the backward pass's tap (`step: "hidden"`): correct. */
const goodInTap = (): Signal.Signal => ({ ...good(), needs: { step: "hidden" } })

signalConformance("a correct reference signal computed in the tap", goodInTap)

beforeAll(async () => {
  await tf.setBackend("cpu")
})

describe("signal suite catches", () => {
  it("a wrong shape", () => {
    expect(() => runSignalCheck("shapeAndFinite", { needs: {}, compute: (v) => tf.sum(v.weights.in, 1) as tf.Tensor1D })).toThrow(/shape \[8\], expected \[12\]/)
  })
  it("a non-finite value", () => {
    expect(() => runSignalCheck("shapeAndFinite", { needs: {}, compute: (v) => tf.log(tf.sub(tf.sum(v.weights.in, 0), 100)) as tf.Tensor1D }))
      .toThrow(/neuron 0 is NaN/)
  })
  it("a leaked tensor", () => {
    expect(() =>
      runSignalCheck("deterministicAndClean", {
        needs: {},
        compute: (v) => {
          tf.keep(tf.zeros([1]))
          return tf.sum(v.weights.in, 0) as tf.Tensor1D
        }
      })
    ).toThrow(/tensors leaked/)
  })
  it("nondeterminism", () => {
    let n = 0
    expect(() => runSignalCheck("deterministicAndClean", { needs: {}, compute: (v) => tf.add(tf.sum(v.weights.in, 0), n++) as tf.Tensor1D }))
      .toThrow(/two computations on the same inputs differ/)
  })
  it("a signal computed in the tap that reads ∂L/∂W (the tap has none)", () => {
    expect(() => runSignalCheck("shapeAndFinite", { needs: { step: "hidden" }, compute: (v) => tf.sum(v.grads!.in, 0) as tf.Tensor1D }))
      .toThrow(/Cannot read properties of undefined/)
  })
  it("a signal computed in the tap that differs from its value on held h and ∂L/∂h", () => {
    let n = 0
    expect(() => runSignalCheck("computedInTheTap", { needs: { step: "hidden" }, compute: (v) => tf.add(tf.sum(v.hidden!, 0), n++) as tf.Tensor1D }))
      .toThrow(/computed in the tap, the values differ/)
  })
  it("a leak in the tap", () => {
    expect(() =>
      runSignalCheck("computedInTheTap", {
        needs: { step: "hidden" },
        compute: (v) => {
          tf.keep(tf.zeros([1]))
          return tf.sum(v.hidden!, 0) as tf.Tensor1D
        }
      })
    ).toThrow(/leaked by compute in the tap/)
  })
  it("a refusal of an ordinary run", () => {
    expect(() => runSignalCheck("acceptsItsRun", { ...good(), check: () => "never" })).toThrow(/check refuses a run/)
  })
})
