import * as tf from "@tensorflow/tfjs-core"
import "@tensorflow/tfjs-backend-cpu"
import { beforeAll, describe, expect, it } from "vitest"
import { chain, clipByGlobalNorm, globalNorm, scaleByAdam, scaleByLearningRate, trace } from "../src/index.ts"

beforeAll(async () => {
  await tf.setBackend("cpu")
})

describe("clipByGlobalNorm", () => {
  const updates = () => ({ a: tf.tensor([3, 0]), b: tf.tensor([[0], [4]]) }) // global norm 5
  it("scales a too-large update to exactly maxNorm, keeping its direction", () => {
    const out = tf.tidy(() => {
      const [u] = clipByGlobalNorm(1).update(updates(), {}, {}, 0)
      return { n: globalNorm(u).dataSync()[0]!, a: Array.from(u["a"]!.dataSync()), b: Array.from(u["b"]!.dataSync()) }
    })
    expect(out.n).toBeCloseTo(1, 6)
    expect(out.a[0]).toBeCloseTo(0.6, 6)
    expect(out.b[1]).toBeCloseTo(0.8, 6)
  })
  it("leaves an update under the limit unchanged", () => {
    const out = tf.tidy(() => {
      const [u] = clipByGlobalNorm(10).update(updates(), {}, {}, 0)
      return [...u["a"]!.dataSync(), ...u["b"]!.dataSync()]
    })
    expect(out).toEqual([3, 0, 0, 4])
  })
  it("rejects a non-positive maxNorm", () => {
    expect(() => clipByGlobalNorm(0)).toThrow(/maxNorm/)
  })
})

describe("chain", () => {
  it("rejects duplicate slot names", () => {
    expect(() => chain(scaleByAdam(), scaleByAdam())).toThrow(/adam.mu/)
    expect(() => chain(trace({ decay: 0.9 }), trace({ decay: 0.5 }))).toThrow(/momentum.trace/)
  })
  it("merges slots and applies blocks left to right", () => {
    const t = chain(trace({ decay: 0.5 }), scaleByLearningRate((c) => c + 1))
    expect(Object.keys(t.slots)).toEqual(["momentum.trace"])
    const out = tf.tidy(() => {
      const p = { w: tf.tensor([1, 2]) }
      const s0 = t.init(p)
      const [u1, s1] = t.update({ w: tf.tensor([1, 1]) }, s0, p, 0) // trace 1, lr 1
      const [u2] = t.update({ w: tf.tensor([1, 1]) }, s1, p, 1) // trace 1.5, lr 2
      return [...u1["w"]!.dataSync(), ...u2["w"]!.dataSync()]
    })
    expect(out).toEqual([-1, -1, -3, -3])
  })
})
