import { describe, expect, it } from "@effect/vitest"
import { type Event, Key } from "@rekindle/core"
import { Backends } from "@rekindle/engine"
import { Model } from "@rekindle/model"
import { sgd } from "@rekindle/plugin-optim"
import * as tf from "@tensorflow/tfjs-core"
import { Effect } from "effect"
import { EventBus } from "@rekindle/core"
import { MidpointLoss } from "@rekindle/plugin-hooks"
import { Trainer, TrainLoop } from "@rekindle/loop"
import { config, setup, trainConfig } from "./fixtures.ts"

type Config = MidpointLoss.MidpointLossConfig

/** The loss written directly (center as a constant), for tf.grads. */
const direct = (c: Config, win: tf.Tensor, wout: tf.Tensor, center: number, below: tf.Tensor | undefined) => {
  const m = tf.mul(tf.sqrt(tf.sum(tf.square(win), 0)), tf.sqrt(tf.sum(tf.square(wout), 1)))
  const x = c.log ? tf.log(m) : m
  const d = tf.sub(x, center)
  const dist = c.p === 1 ? tf.abs(d) : tf.square(d)
  return tf.mul(tf.sum(below === undefined ? dist : tf.mul(dist, below)), c.coefficient) as tf.Scalar
}

const configs: Array<Config> = [
  { coefficient: 0.5, p: 2, center: "mean", log: false, belowOnly: false },
  { coefficient: 0.3, p: 1, center: "median", log: false, belowOnly: false },
  { coefficient: 0.2, p: 2, center: "median", log: true, belowOnly: true },
  { coefficient: 1, p: 1, center: "mean", log: true, belowOnly: false }
]

describe("midpoint loss", () => {
  it("median of odd and even lengths", () => {
    expect(MidpointLoss.median([3, 1, 2])).toBe(2)
    expect(MidpointLoss.median([4, 1, 3, 2])).toBe(2.5)
  })

  for (const c of configs) {
    it.effect(`analytic gradient = autodiff with a stop-gradient center (p=${c.p}, ${c.center}, log=${c.log}, belowOnly=${c.belowOnly})`, () =>
      Effect.gen(function*() {
        yield* Backends.init({ name: "cpu" }, [])
        const model = Model.make(config)
        const params = model.init(Key.make(3))
        const layer = model.topology.layers[1]!
        const win = params[layer.win]!, wout = params[layer.wout]!
        const { layers } = MidpointLoss.value(c, { layers: [layer] }, params)
        const center = layers[0]!.center
        const x = tf.tidy(() => {
          const m = tf.mul(tf.sqrt(tf.sum(tf.square(win), 0)), tf.sqrt(tf.sum(tf.square(wout), 1)))
          return Array.from((c.log ? tf.log(m) : m).dataSync())
        })
        const expectedCenter = c.center === "mean" ? x.reduce((a, b) => a + b, 0) / x.length : MidpointLoss.median(x)
        expect(center).toBeCloseTo(expectedCenter, 4)
        const below = c.belowOnly ? tf.tensor1d(x.map((v) => (v < center ? 1 : 0))) : undefined
        const [gWin, gWout] = tf.grads((a: tf.Tensor, b: tf.Tensor) => direct(c, a, b, center, below))([win, wout])
        const analytic = tf.tidy(() => MidpointLoss.gradients(c, { layers: [layer] }, params))
        const close = (a: tf.Tensor, b: tf.Tensor) => {
          const scale = Math.max(1e-6, tf.max(tf.abs(a)).dataSync()[0]!)
          return tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]! / scale
        }
        expect(close(analytic[layer.win]!, gWin!)).toBeLessThan(1e-4)
        expect(close(analytic[layer.wout]!, gWout!)).toBeLessThan(1e-4)
        // and the loss value matches the direct one
        expect(layers[0]!.loss).toBeCloseTo(direct(c, win, wout, center, below).dataSync()[0]!, 3)
        // only the FF matrices get gradients
        expect(Object.keys(analytic).sort()).toEqual([layer.win, layer.wout].sort())
        tf.dispose([gWin!, gWout!, ...Object.values(analytic), ...Object.values(params), ...(below ? [below] : [])])
      }))
  }

  it.effect("applied decoupled in training, it pulls magnitudes together (lower spread than without)", () =>
    Effect.gen(function*() {
      yield* Backends.init({ name: "cpu" }, [])
      const c: Config = { coefficient: 2, p: 2, center: "mean", log: false, belowOnly: false }
      const spread = (loop: TrainLoop.TrainLoop) => MidpointLoss.value({ ...c, coefficient: 1 }, loop.model.topology, loop.params).total
      const run = (withAux: boolean) =>
        Effect.gen(function*() {
          const s = setup(sgd({ lr: 0.05 }))
          const { bus, events } = EventBus.memory()
          const start = spread(s.loop)
          yield* Trainer.train({
            loop: s.loop, stream: s.stream, evalSet: s.evalSet, config: trainConfig(20),
            hooks: withAux ? [MidpointLoss.hook(c, s.model.topology, 5)] : []
          }).pipe(Effect.provideService(EventBus, bus))
          const end = spread(s.loop)
          s.dispose()
          return { start, end, events }
        })
      const plain = yield* run(false)
      const aux = yield* run(true)
      expect(aux.start).toBe(plain.start)
      expect(aux.end).toBeLessThan(plain.end * 0.7)
      const scalars = aux.events.filter((e): e is Event.EventOf<"Scalar"> => e._tag === "Scalar" && e.name === "aux")
      expect(scalars.map((e) => e.step)).toEqual([0, 5, 10, 15])
      const centers = aux.events.filter((e) => e._tag === "Scalar" && e.name === "center")
      expect(centers).toHaveLength(8)
      expect(plain.events.some((e) => e._tag === "Scalar")).toBe(false)
    }))
})
