/**
 * Cost of the probes and the analysis sinks next to training steps. Not a test (no timing
 * assertions): run with
 *   npx tsx packages/training/test/probes/bench.ts [wasm|cpu] [threads] [quickstart|reference]
 * Prints medians of a few repetitions; numbers on a shared machine are noisy.
 *
 * - step: one optimizer step of the model.
 * - probes: one run of all three probes (probe/magnitudes, probe/recycle-counts, probe/activations:
 *   one measurement with activation statistics on a probe batch of the trainer's batch size).
 * - sinks: writing one probe round's events plus one logged train step to the TensorBoard and
 *   events.jsonl encoders, and rendering the report of a 1000-step run with probes every 100.
 * The overhead at the default cadence (`every: 100`) is probes / (100 · step).
 */
import { Event, Key, type Probe } from "@rekindle/core"
import { Backends } from "@rekindle/engine"
import { Model } from "@rekindle/model"
import { Tensorboard } from "@rekindle/plugin-log"
import { adamw } from "@rekindle/plugin-optim"
import { probe as probePlugin, Probes } from "@rekindle/plugin-probe"
import { Data, Html } from "@rekindle/report"
import { Effect } from "effect"
import { EventBus } from "@rekindle/core"
import * as ProbeHook from "../../src/probes/Hook.ts"
import { TrainLoop } from "@rekindle/loop"
import { countingStream } from "../Synthetic.ts"

const backend = process.argv[2] ?? "wasm"
const threads = Number(process.argv[3] ?? 2)
const which = process.argv[4] ?? "quickstart"
await Effect.runPromise(Backends.init({ name: backend, threads }, []))

const configs = {
  quickstart: { model: { dModel: 128, heads: 4, layers: 2, dFF: 512, seqLen: 64, vocabSize: 4096 }, batch: 32 },
  reference: { model: { dModel: 256, heads: 4, layers: 4, dFF: 1024, seqLen: 128, vocabSize: 8192 }, batch: 16 }
} as const
const c = configs[which as keyof typeof configs] ?? configs.quickstart
const config = { ...c.model, activation: "relu", ffBias: false, causal: false, finalLayerNorm: true } as const
const model = Model.make(config)
const loop = TrainLoop.make(model, adamw({ lr: 1e-3 }), model.init(Key.make(1)))
const stream = countingStream({ batchSize: c.batch, seqLen: config.seqLen, vocabSize: config.vocabSize, seed: 2 })
const batch = Model.toTensors(countingStream({ batchSize: c.batch, seqLen: config.seqLen, vocabSize: config.vocabSize, seed: 3 }).next())

const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const time = async (f: () => unknown, n: number) => {
  const out: Array<number> = []
  for (let i = 0; i < n; i++) {
    const t = performance.now()
    await f()
    out.push(performance.now() - t)
  }
  return median(out)
}

const step = () => {
  const b = Model.toTensors(stream.next())
  loop.step(b).dispose()
  Model.disposeBatch(b)
}
step()
const stepMs = await time(step, 5)

const probes: Array<{ id: string; probe: Probe }> = [
  { id: "probe/magnitudes", probe: Probes.magnitudes({ every: 100, bins: 32 }) },
  { id: "probe/recycle-counts", probe: Probes.recycleCounts({ every: 100 }) },
  { id: "probe/activations", probe: Probes.activations({ every: 100, bins: 32, maxPoints: 1024 }) }
]
const hook = ProbeHook.make({ model, probes, batch })
const { bus, events } = EventBus.memory()
const probeRound = () => Effect.runPromise(hook.before(0, loop).pipe(Effect.provideService(EventBus, bus)))
await probeRound()
const round = [...events]
const probeMs = await time(probeRound, 5)

const trainStep = Event.TrainStep.make({ step: 10, loss: 3, lr: 1e-3, tokens: 1, ms: 1, tokensPerSec: 1 })
const sinkRound = () => {
  for (const e of [...round, trainStep]) {
    const values = Tensorboard.valuesOf(e, { histograms: true })
    if (values.length > 0) Tensorboard.frame(Tensorboard.encodeEvent({ wall_time: 0, step: 0, values }))
    Event.encodeLine(e)
  }
}
const sinkMs = await time(sinkRound, 5)

// a 1000-step run: 100 logged steps, 11 evals, 11 probe rounds
const runEvents: Array<Event.Event> = []
for (let s = 10; s <= 1000; s += 10) runEvents.push(Event.TrainStep.make({ step: s, loss: 3, lr: 1e-3, tokens: 1, ms: 1, tokensPerSec: 1 }))
for (let s = 0; s <= 1000; s += 100) {
  runEvents.push(Event.Eval.make({ step: s, loss: 3, accuracy: 0.1, batches: 4, tokens: 1 }))
  for (const e of round) runEvents.push({ ...e, step: s } as Event.Event)
}
const reportMs = await time(() => Html.render(Data.fromEvents(runEvents, { folder: "bench" })), 3)
const reportBytes = Html.render(Data.fromEvents(runEvents, { folder: "bench" })).length

const pct = (x: number) => `${(100 * x).toFixed(2)}%`
console.log(`${which} on ${backend} (${threads} threads), batch ${c.batch}×${config.seqLen}, ${config.layers} layers × dFF ${config.dFF}`)
console.log(`  training step                  ${stepMs.toFixed(1)} ms`)
console.log(`  all probes, one round          ${probeMs.toFixed(1)} ms (${round.length} events)`)
console.log(`  sink encoding, one round       ${sinkMs.toFixed(2)} ms (TensorBoard frames + JSON lines)`)
console.log(`  report render, 1000-step run   ${reportMs.toFixed(0)} ms (${(reportBytes / 1024).toFixed(0)} KiB), once per flush`)
console.log(`  overhead at every 100 steps    ${pct((probeMs + sinkMs) / (100 * stepMs))} per step` +
  ` (+ ${pct(reportMs / (1000 * stepMs))} for one report over 1000 steps)`)
console.log(`  (${Object.keys(probePlugin.probes).join(", ")})`)
loop.dispose()
Model.disposeBatch(batch)
