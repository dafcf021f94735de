/**
 * Per-phase cost of one recycling event (the bench's `recycle` column: magnitude-smallest 5% per
 * layer + initial + zero-moments) on the reference/wide models: the phases of `Recycler.fire` run
 * one after another on the same state, repeated (so every phase sees the same machine load), plus
 * the whole event through `Recycler.runDue` interleaved with them. Medians in ms. Not a test.
 *
 *   npx tsx bench/src/RecyclingPhases.ts [--config reference] [--blas auto] [--reps 7]
 */
import "@rekindle/engine/Gradients"
import { Event, Key, Slots } from "@rekindle/core"
import { Backends } from "@rekindle/engine"
import { Measure, Model } from "@rekindle/model"
import { adam } from "@rekindle/plugin-optim"
import { initial } from "@rekindle/plugin-reinit"
import { magnitudeSmallest } from "@rekindle/plugin-select"
import * as Recycling from "@rekindle/recycling"
import { TrainLoop } from "@rekindle/training"
import * as tf from "@tensorflow/tfjs-core"
import { Effect } from "effect"
import * as os from "node:os"
import { configs } from "./Configs.ts"
import * as Synthetic from "./Synthetic.ts"
import { arg } from "./Args.ts"
import { summarize } from "./Stats.ts"

const median = (xs: ReadonlyArray<number>) => summarize(xs).median

const main = async () => {
  const c = configs[arg("config", "reference")]!
  const info = await Effect.runPromise(Backends.init({ name: "wasm", blas: arg("blas", "auto") }, []))
  console.log(`config ${c.name}; blas: ${info.blas?.library ?? "none"}; load ${os.loadavg()[0]!.toFixed(2)}`)
  const reps = Number(arg("reps", "7"))
  const model = Model.make(c.model)
  const stream = Synthetic.stream(c.batchSize, c.model.seqLen, c.model.vocabSize)
  const loop = TrainLoop.make(model, adam({ lr: 1e-3 }), model.init(Key.make(1)))
  for (let s = 0; s < 2; s++) {
    const b = Model.toTensors(stream.next())
    loop.step(b).dispose()
    Model.disposeBatch(b)
  }
  const topology = model.topology
  const stage: Recycling.Stage.Stage = {
    index: 0, schedule: { every: 1, from: 0 }, criterion: { id: "select/magnitude-smallest", criterion: magnitudeSmallest() },
    fraction: 0.05, scope: "per-layer", reinit: { id: "reinit/initial", reinitializer: initial() }, optimizerState: "zero-moments",
    immunity: 0, shadow: []
  }
  const recycler = Recycling.Recycler.make({ model, stages: [stage], key: Key.make(7) })
  const key = Key.make(7)
  const times: Record<string, Array<number>> = {}
  const timed = <A>(name: string, f: () => A): A => {
    const t0 = performance.now()
    const out = f()
    ;(times[name] ??= []).push(performance.now() - t0)
    return out
  }
  const params = loop.params
  const optimizer = loop.optimizer
  for (let r = -1; r < reps; r++) {
    const step = 100 + r
    const t0 = performance.now()
    const signals = timed("signals (magnitudes before)", () => Measure.measure(model, params, step))
    const eligible = topology.layers.map((l) => new Uint8Array(l.dFF).fill(1))
    const request = Recycling.Selector.request(stage, topology, eligible)
    const choice = timed("select (criterion)", () => Recycling.Selector.choose(stage, { main: stage.criterion.criterion.init(topology), shadows: [] }, signals, request, key, step))
    timed("check selection", () => Recycling.Invariants.checkSelection({ step, stage: 0 }, topology, request, "rank", choice.selection))
    const rkey = Recycling.Selector.keyFor(key, "reinit", 0, step)
    const values = timed("reinit values (apply)", () => tf.tidy(() =>
      stage.reinit.reinitializer.apply({ step, params, topology, selection: choice.selection, key: rkey, initial: model.initParam }) as unknown as tf.TensorContainer
    ) as unknown as Record<string, tf.Tensor>)
    timed("check reinit", () => Recycling.Invariants.checkReinit({ step, stage: 0 }, "reinit/initial", topology, choice.selection, params, values, true))
    timed("assign params", () => {
      for (const name of Object.keys(values)) params[name]!.assign(values[name]!)
    })
    tf.dispose(Object.values(values))
    const slices = Recycling.Apply.neuronSlices(topology, choice.selection)
    const opt = loop.optState()
    const next = timed("reset optimizer slices", () => Slots.resetSlices(opt, optimizer, slices, "zero-moments"))
    timed("check slots", () => Recycling.Invariants.checkSlots({ step, stage: 0 }, optimizer, "zero-moments", slices, opt, next))
    loop.setOptState(next)
    const after = timed("magnitudes after", () =>
      Recycling.MagnitudesAfter.after(topology, params, choice.selection, signals.layers.map((l) => l.magnitude)))
    timed("events + lineage", () => {
      const ev: Array<Event.Event> = choice.selection.layers.map((l, p) => Event.Recycle.make({
        step, stage: 0, layer: topology.layers[p]!.layer, criterion: stage.criterion.id, reinit: stage.reinit.id, k: request.k[p]!,
        indices: [...l.indices], scores: [...l.scores], magnitudeBefore: 0, magnitudeAfter: after[p]![l.indices[0]!]!, key: rkey.path,
        optimizerState: "zero-moments", shadow: []
      }))
      const lin = Recycling.Lineage.record(Recycling.Lineage.make(topology), step, choice.selection)
      ev.push(...Recycling.Lineage.events(lin, topology, step, after))
      return ev
    })
    ;(times["sum of phases"] ??= []).push(performance.now() - t0)
    timed("whole event (Recycler.runDue)", () => {
      const out = recycler.runDue(step, { params, opt: loop.optState(), optimizer })
      if (out.opt !== loop.optState()) loop.setOptState(out.opt)
    })
    if (r < 0) for (const k of Object.keys(times)) times[k] = []
  }
  for (const [name, ts] of Object.entries(times)) console.log(`${name.padEnd(32)} ${median(ts).toFixed(1).padStart(8)} ms`)
  console.log(`load ${os.loadavg()[0]!.toFixed(2)}; tensors ${tf.memory().numTensors}`)
}

main()
