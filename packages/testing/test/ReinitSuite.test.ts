/**
 * The reinitializer suite itself: it passes on a correct reinitializer written here against the
 * core contract alone, and each check fails on one broken in the way it guards against.
 */
import { Key, type Reinitializer, Slices } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import { describe, expect, it } from "vitest"
import { reinitChecks, reinitConformance } from "../src/ReinitSuite.ts"

/** Chosen slices := the initial draw's slices: correct. */
const good = (): Reinitializer => ({
  slicesOnly: true,
  apply: (ctx) => {
    const out: Record<string, tf.Tensor> = {}
    ctx.topology.layers.forEach((l, p) => {
      const idx = ctx.selection.layers[p]!.indices
      for (const s of l.slices) {
        const fresh = ctx.initial(s.param, Key.fold(ctx.key, p))
        out[s.param] = Slices.replaceAlong(ctx.params[s.param]!, s.axis, idx, Slices.gatherAlong(fresh, s.axis, idx))
      }
    })
    return out
  }
})

const broken = (apply: Reinitializer["apply"], extra: Partial<Reinitializer> = {}): (() => Reinitializer) => () => ({ ...good(), apply, ...extra })

reinitConformance("a correct reference reinitializer", good)

describe("reinit suite catches", () => {
  it("a changed neighbour column", () => {
    const r = broken((ctx) => {
      const out = good().apply(ctx)
      const win = ctx.topology.layers[0]!.win
      const idx = ctx.selection.layers[0]!.indices
      const neighbour = [...new Set(idx.map((i) => (i + 1) % ctx.topology.layers[0]!.dFF))].filter((i) => !idx.includes(i))
      out[win] = Slices.fillAlong(out[win]!, 1, neighbour, 9)
      return out
    })
    expect(() => reinitChecks.slicesOnly(r)).toThrow(/unchosen neurons/)
  })
  it("a parameter outside the neurons", () => {
    const r = broken((ctx) => ({ ...good().apply(ctx), "head.b": tf.add(ctx.params["head.b"]!, 1) }))
    expect(() => reinitChecks.slicesOnly(r)).toThrow(/holds no neuron slice/)
  })
  it("a wrong shape and an unknown parameter", () => {
    expect(() => reinitChecks.shapes(broken((ctx) => ({ [ctx.topology.layers[0]!.win]: tf.zeros([2, 2]) })))).toThrow(/shape/)
    expect(() => reinitChecks.shapes(broken(() => ({ nope: tf.zeros([1]) })))).toThrow(/unknown parameter/)
  })
  it("non-finite values", () => {
    const r = broken((ctx) => ({ [ctx.topology.layers[0]!.win]: tf.div(ctx.params[ctx.topology.layers[0]!.win]!, 0) }))
    expect(() => reinitChecks.shapes(r)).toThrow(/non-finite/)
  })
  it("randomness not from the key", () => {
    const r = broken((ctx) => {
      const win = ctx.topology.layers[0]!.win
      const idx = ctx.selection.layers[0]!.indices
      const t = ctx.params[win]!
      return { [win]: Slices.replaceAlong(t, 1, idx, tf.randomNormal([t.shape[0]!, idx.length])) }
    })
    expect(() => reinitChecks.deterministic(r)).toThrow(/same key/)
  })
  it("disposed inputs", () => {
    const r = broken((ctx) => {
      const out = good().apply(ctx)
      ctx.params["head.b"]!.dispose()
      return out
    })
    expect(() => reinitChecks.leaks(r)).toThrow(/disposed its input/)
  })
  it("a malformed blend", () => {
    expect(() => reinitChecks.blend(broken(good().apply, { blend: { steps: 0 } }))).toThrow(/blend.steps/)
  })
})

describe("reinit suite catches leaks", () => {
  it("a tensor kept outside tf.tidy's reach", () => {
    const kept: Array<tf.Tensor> = []
    const r = broken((ctx) => {
      kept.push(tf.keep(tf.scalar(1)))
      return good().apply(ctx)
    })
    expect(() => reinitChecks.leaks(r)).toThrow(/leaked/)
    kept.forEach((t) => t.dispose())
  })
})
