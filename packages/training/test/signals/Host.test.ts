/**
 * The signal host inside real training steps: the values it reads are those of an independent
 * observation of the same step (the testing kit's autograd capture), windows fold as documented,
 * signals reading h and ∂L/∂h alone are computed in the backward pass's tap with the same bits,
 * the step itself is unchanged bit for bit, the state survives a JSON round trip mid-window, and
 * nothing is measured (or leaked) when nothing is asked for.
 */
import { Key, type Signal } from "@rekindle/core"
import type { ModelConfig } from "@rekindle/model"
import { adam } from "@rekindle/plugin-optim"
import { activationVariance, gradNorm, magnitude, meanAbs, secondMoment, snip, taylor } from "@rekindle/plugin-signal"
import { computeAll, observe, tinyBatch, tinyModel } from "@rekindle/testing"
import { Backends } from "@rekindle/engine"
import * as tf from "@tensorflow/tfjs-core"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { SignalHost as Host } from "@rekindle/recycling"
import { TrainLoop } from "@rekindle/loop"

beforeAll(async () => {
  await Effect.runPromise(Backends.init({ name: "cpu" }, []))
})
afterAll(() => expect(tf.memory().numTensors).toBe(0))

const bind = (consumer: string, name: string, id: string, signal: Signal.Signal, window: Signal.Window = { kind: "last" }, every = 1): Host.Bound => ({
  consumer, name, id, key: `${id} {}`, signal, window, every
})

/** The same signal declaring `step: true`: computed at the step's end on h and ∂L/∂h held until then. */
const held = (signal: Signal.Signal): Signal.Signal => ({ ...signal, needs: { ...signal.needs, step: true } })

const world = (config: Partial<ModelConfig> = { activation: "swiglu", ffBias: true }) => {
  const model = tinyModel(config)
  const loop = TrainLoop.make(model, adam({ lr: 1e-2 }), model.init(Key.make(4)))
  const batches = [0, 1, 2, 3, 4, 5].map((i) => tinyBatch(model.config, 20 + i, 2))
  const probe = tinyBatch(model.config, 99, 2)
  const dispose = () => {
    loop.dispose()
    for (const b of [...batches, probe]) tf.dispose([b.inputIds, b.targetIds, b.targetPositions])
  }
  return { model, loop, batches, probe, dispose }
}

/** Runs steps from..to with the host observing; returns the per-step reference values of `signal`, computed before each step. */
const run = (w: ReturnType<typeof world>, host: Host.Host | undefined, from: number, to: number, reference?: Signal.Signal) => {
  const refs: Array<Array<Float32Array>> = []
  for (let s = from; s < to; s++) {
    const batch = w.batches[s]!
    if (reference !== undefined) {
      const o = observe(w.model, w.loop.params, batch, reference.needs, w.loop.optState())
      refs.push(computeAll(reference, w.model.topology, o.capture))
      o.dispose()
    }
    const observer = host?.observer(s)
    w.loop.step(batch, undefined, observer === undefined ? undefined : { observers: [observer] }).dispose()
  }
  return refs
}

describe("signal host", () => {
  it("reads what an independent capture of the same step computes (taylor, snip, grad-norm, second moment, last window)", () => {
    for (const [id, signal] of [["signal/taylor", taylor()], ["signal/snip", snip()], ["signal/grad-norm", gradNorm()], ["signal/second-moment", secondMoment({ slot: "adam.nu" })]] as const) {
      const w = world()
      const host = Host.make({ topology: w.model.topology, config: w.model.config, bound: [bind("c", "x", id, signal)] })
      const refs = run(w, host, 0, 3, signal)
      const got = host.read("c").map((r) => r.x!)
      got.forEach((v, p) => {
        expect(v.length).toBe(w.model.config.dFF)
        v.forEach((x, i) => expect(x, `${id} layer ${p} neuron ${i}`).toBeCloseTo(refs[2]![p]![i]!, 5))
      })
      expect(got.flatMap((v) => Array.from(v)).some((x) => x > 0)).toBe(true)
      host.dispose()
      w.dispose()
    }
  })

  it("folds windows: mean since the last read (then cleared), EMA, every N steps; zeros before any observation", () => {
    const w = world({ activation: "gelu" })
    const bound = [
      bind("a", "mean", "signal/taylor", taylor(), { kind: "mean" }),
      bind("a", "ema", "signal/taylor", taylor(), { kind: "ema", decay: 0.5 }),
      bind("b", "sparse", "signal/taylor", taylor(), { kind: "last" }, 2)
    ]
    const host = Host.make({ topology: w.model.topology, config: w.model.config, bound })
    expect(host.read("a")[0]!.mean!.every((x) => x === 0)).toBe(true)
    const refs = run(w, host, 0, 4, taylor())
    const a = host.read("a")
    const b = host.read("b")
    a.forEach((layer, p) => {
      for (let i = 0; i < w.model.config.dFF; i++) {
        const xs = refs.map((r) => r[p]![i]!)
        expect(layer.mean![i]).toBeCloseTo((xs[0]! + xs[1]! + xs[2]! + xs[3]!) / 4, 5)
        let ema = xs[0]!
        for (const x of xs.slice(1)) ema = 0.5 * ema + 0.5 * x
        expect(layer.ema![i]).toBeCloseTo(ema, 5)
        expect(b[p]!.sparse![i]).toBeCloseTo(xs[2]!, 5) // observed at steps 0 and 2 only
      }
    })
    // the read cleared the mean window (zeros), not the EMA
    expect(host.read("a")[0]!.mean!.every((x) => x === 0)).toBe(true)
    expect(host.read("a")[0]!.ema!.some((x) => x !== 0)).toBe(true)
    host.dispose()
    w.dispose()
  })

  it("does not change the step: parameters after 3 steps are bitwise those of a run without observers", () => {
    const params = (host: boolean) => {
      const w = world()
      const h = host ? Host.make({ topology: w.model.topology, config: w.model.config, bound: [bind("c", "t", "signal/taylor", taylor()), bind("c", "s", "signal/snip", snip())] }) : undefined
      run(w, h, 0, 3)
      const out = Object.fromEntries(Object.entries(w.loop.params).map(([n, v]) => [n, Array.from(v.dataSync())]))
      h?.dispose()
      w.dispose()
      return out
    }
    expect(params(true)).toEqual(params(false))
  })

  it("resumes bit for bit: state saved mid-window through JSON continues as if never interrupted", () => {
    const bound = () => [
      bind("c", "mean", "signal/taylor", taylor(), { kind: "mean" }),
      bind("c", "ema", "signal/snip", snip(), { kind: "ema", decay: 0.9 }),
      bind("c", "probe", "signal/mean-abs", meanAbs({ source: "probe" }), { kind: "mean" })
    ]
    const straight = world()
    const h1 = Host.make({ topology: straight.model.topology, config: straight.model.config, bound: bound(), probe: straight.probe })
    run(straight, h1, 0, 5)
    const expected = h1.read("c")

    const first = world()
    const h2 = Host.make({ topology: first.model.topology, config: first.model.config, bound: bound(), probe: first.probe })
    run(first, h2, 0, 3)
    const saved = JSON.parse(JSON.stringify(h2.snapshot())) as Host.HostSnapshot
    const h3 = Host.make({ topology: first.model.topology, config: first.model.config, bound: bound(), probe: first.probe })
    h3.restore(saved)
    h2.dispose()
    run(first, h3, 3, 5)
    expect(h3.read("c")).toEqual(expected)
    expect(() => h3.restore({ ...saved, windows: saved.windows.slice(1) })).toThrow(/the checkpoint's signals .* are not the run's/)
    for (const x of [h1, h3]) x.dispose()
    straight.dispose()
    first.dispose()
  })

  it("taps h and ∂L/∂h only for signals reading them: snip and grad-norm read the step's ∂L/∂W alone", () => {
    const w = world()
    const make = (bound: ReadonlyArray<Host.Bound>) => Host.make({ topology: w.model.topology, config: w.model.config, bound })
    const snipOnly = make([bind("c", "s", "signal/snip", snip()), bind("c", "g", "signal/grad-norm", gradNorm())])
    expect(snipOnly.observer(0)?.hidden).toBe(false)
    expect(snipOnly.observer(0)?.tap).toBeUndefined()
    const withTaylor = make([bind("c", "s", "signal/snip", snip()), bind("c", "t", "signal/taylor", taylor(), { kind: "last" }, 2)])
    // taylor ("hidden") runs in the tap and holds nothing; a `step: true` signal holds h and ∂L/∂h
    expect(withTaylor.observer(0)?.hidden).toBe(false)
    expect(withTaylor.observer(0)?.tap).toBeTypeOf("function")
    expect(make([bind("c", "t", "held", held(taylor()))]).observer(0)?.hidden).toBe(true)
    // taylor not due at step 1: snip alone, no tap
    expect(withTaylor.observer(1)?.hidden).toBe(false)
    expect(withTaylor.observer(1)?.tap).toBeUndefined()
    // snip without the tap reads the same values as the independent capture of the same step
    const refs = run(w, snipOnly, 0, 2, snip())
    snipOnly.read("c").forEach((r, p) => r.s!.forEach((x, i) => expect(x, `layer ${p} neuron ${i}`).toBeCloseTo(refs[1]![p]![i]!, 5)))
    for (const h of [snipOnly, withTaylor]) h.dispose()
    w.dispose()
  })

  it("computes `step: \"hidden\"` signals in the backward pass's tap with the bits of h and ∂L/∂h held to the step's end", () => {
    const signals = [["signal/taylor", taylor()], ["signal/mean-abs", meanAbs({ source: "step" })], ["signal/activation-variance", activationVariance({ source: "step" })]] as const
    const windows: ReadonlyArray<Signal.Window> = [{ kind: "mean" }, { kind: "ema", decay: 0.9 }, { kind: "last" }]
    const values = (hold: boolean, config: Partial<ModelConfig>) => {
      const w = world(config)
      const bound = signals.flatMap(([id, signal]) => windows.map((window) => bind("c", `${id} ${window.kind}`, id, hold ? held(signal) : signal, window)))
      const host = Host.make({ topology: w.model.topology, config: w.model.config, bound })
      expect(host.observer(0)?.hidden).toBe(hold)
      const live = tf.memory().numTensors
      run(w, host, 0, 3)
      // only the windows stay: one [dFF] vector per layer and window (plus nothing per step)
      expect(tf.memory().numTensors - live).toBe(bound.length * w.model.topology.layers.length)
      const out = host.read("c").map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length))])))
      host.dispose()
      w.dispose()
      return out
    }
    for (const config of [{ activation: "swiglu", ffBias: true }, { activation: "gelu", ffBias: false }] as const) {
      const inTap = values(false, config)
      expect(inTap).toEqual(values(true, config))
      expect(inTap.flatMap((r) => Object.values(r).flat()).some((x) => x !== 0)).toBe(true)
    }
  })

  it("observes nothing when nothing is asked; a probe signal without a probe batch is refused", () => {
    const w = world()
    const host = Host.make({ topology: w.model.topology, config: w.model.config, bound: [] })
    expect(host.observer(0)).toBeUndefined()
    expect(host.has("c")).toBe(false)
    expect(Host.make({ topology: w.model.topology, config: w.model.config, bound: [bind("c", "m", "signal/magnitude", magnitude(), { kind: "last" }, 5)] }).observer(3))
      .toBeUndefined()
    expect(() => Host.make({ topology: w.model.topology, config: w.model.config, bound: [bind("c", "p", "signal/mean-abs", meanAbs({ source: "probe" }))] }))
      .toThrow(/reads the probe batch, but the run has none/)
    host.dispose()
    w.dispose()
  })
})
