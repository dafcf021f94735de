/**
 * The end-to-end cost of gradient signals, as a run pays it: the Trainer's steps with the hooks
 * the Runner builds for a recycling stage whose criterion reads gradient signals accumulated at
 * every step (`select/taylor`, or `select/snip`: the signal host's hook installs its observer in
 * every step, the recycler reads the values) against the same run whose criterion needs none
 * (`select/magnitude-smallest`: no host, no observer: the plain step, so that cost is 0 by
 * construction). Arms alternate step by step on loops from the same initial state, fed the same
 * batch each round, in rotating order (A/B/C, B/C/A, ...: the machine's load drifts and no arm
 * always pays for another's garbage). The stage does not fire during the measurement (recycling's
 * own cost is the bench's `recycle` column). Reported: each arm's step time and the median over
 * rounds of (its step / the no-signal step of the same round) − 1.
 */
import { type Criterion, EventBus, Key, type Signal, type StepHook } from "@rekindle/core"
import { Model } from "@rekindle/model"
import { adam } from "@rekindle/plugin-optim"
import { initial } from "@rekindle/plugin-reinit"
import { magnitudeSmallest, snip, taylor } from "@rekindle/plugin-select"
import { snip as snipSignal, taylor as taylorSignal } from "@rekindle/plugin-signal"
import * as Recycling from "@rekindle/recycling"
import { Trainer, TrainLoop } from "@rekindle/training"
import { Effect } from "effect"
import type { BenchConfig } from "./Configs.ts"
import { type Summary, summarize } from "./Stats.ts"
import * as Synthetic from "./Synthetic.ts"

/** One arm: the acting criterion, its step time and its overhead over the no-signal arm. */
export interface ArmCost {
  readonly criterion: string
  readonly stepMs: Summary
  /** Median over rounds of (this arm's step / the no-signal step of the same round) − 1. */
  readonly overhead: number
  /**
   * The same on the process's CPU time (user + system, every thread) per step: on a loaded
   * machine it leaves out the time the step waited for a core.
   */
  readonly cpuOverhead: number
  /** Steps that carried a step observer (every step, warm-up included). */
  readonly observedSteps: number
}

/** What the comparison measured. */
export interface EndToEndCost {
  /** The run whose criterion needs no signal (`select/magnitude-smallest`): no observer in any step. */
  readonly plainMs: Summary
  /** `select/taylor` and `select/snip`, each observing its signal at every step (mean window). */
  readonly arms: ReadonlyArray<ArmCost>
  /** Steps of the no-signal arm that carried a step observer (0: the plain path). */
  readonly plainObserved: number
  /** With `held`: the median over rounds of (taylor's step / the held taylor's step of the same round) − 1. */
  readonly tapVsHeld?: number
  /** The same on CPU time (see `ArmCost.cpuOverhead`). */
  readonly tapVsHeldCpu?: number
}

/** An arm's acting criterion and the signal parts it reads, by id. */
interface Arm {
  readonly id: string
  readonly criterion: Criterion<any>
  readonly signals: Readonly<Record<string, () => Signal.Signal>>
}

/** The acting criteria of the arms, the no-signal one first. */
const armsOf: ReadonlyArray<Arm> = [
  { id: "select/magnitude-smallest", criterion: magnitudeSmallest(), signals: {} },
  { id: "select/taylor", criterion: taylor({ every: 1, window: "mean", decay: 0.9 }), signals: { "signal/taylor": taylorSignal } },
  { id: "select/snip", criterion: snip({ every: 1, window: "mean", decay: 0.9 }), signals: { "signal/snip": snipSignal } }
]

/** The hooks the Runner builds for one recycling stage acting with `arm`'s criterion (signal host first, when needed). */
const hooksFor = (model: Model.Transformer, arm: Arm) => {
  const consumer = Recycling.SignalConsumers.consumerOf(0, -1)
  const bound = Object.entries(arm.criterion.signals ?? {}).map(([name, request]) => ({
    consumer,
    name,
    id: request.use,
    key: `${request.use} {}`,
    signal: arm.signals[request.use]!(),
    window: request.window ?? { kind: "last" },
    every: request.every ?? 1
  }))
  const host = bound.length === 0 ? undefined : Recycling.SignalHost.make({ topology: model.topology, config: model.config, bound })
  const stage = Recycling.Stage.make({
    criterion: [arm.id, arm.criterion],
    reinit: ["reinit/initial", initial()],
    schedule: { every: 1000, from: 1000 },
    fraction: 0.05
  })
  const recycler = Recycling.Recycler.make({ model, stages: [stage], key: Key.make(7), ...(host !== undefined ? { signals: host } : {}) })
  const hooks: Array<StepHook> = [
    ...(host !== undefined ? [Recycling.SignalHook.hook(host)] : []),
    { ...Recycling.hook(recycler), state: Recycling.state(recycler) }
  ]
  return { hooks, dispose: () => (recycler.dispose(), host?.dispose()) }
}

/**
 * The before/after arm of `--held`: `select/taylor` whose signal declares `needs.step: true`, so the
 * step holds every layer's h and ∂L/∂h to its end and Taylor runs there (as before the signal ran
 * in the tap, `needs.step: "hidden"`); same values, bit for bit.
 */
const heldTaylor: Arm = {
  id: "select/taylor",
  criterion: taylor({ every: 1, window: "mean", decay: 0.9 }),
  signals: { "signal/taylor": () => ({ ...taylorSignal(), needs: { step: true } }) }
}

/** Times `steps` rounds (after `warmup` untimed ones), one step of each arm per round, in rotating order; `held` adds `heldTaylor` last. */
export const measure = (c: BenchConfig, steps: number, warmup: number, held = false): Effect.Effect<EndToEndCost> =>
  Effect.gen(function*() {
    const criteria = held ? [...armsOf, heldTaylor] : armsOf
    const model = Model.make(c.model)
    const synthetic = Synthetic.stream(c.batchSize, c.model.seqLen, c.model.vocabSize)
    let batch = synthetic.next()
    // every arm reads the round's batch
    const stream = { next: () => batch, position: () => ({ epoch: 0, index: 0 }) }
    const arms = criteria.map((arm) => ({ ...hooksFor(model, arm), loop: TrainLoop.make(model, adam({ lr: 1e-3 }), model.init(Key.make(1))) }))
    const times: Array<Array<number>> = arms.map(() => [])
    const cpu: Array<Array<number>> = arms.map(() => [])
    const observed = arms.map(() => 0)
    const bus = EventBus.of({ emit: () => Effect.void, flush: Effect.void })
    const config = { batchSize: c.batchSize, evalEvery: 0, evalBatches: 1, logEvery: 1, checkpointEvery: 0 }
    for (let s = 0; s < warmup + steps; s++) {
      batch = synthetic.next()
      arms.forEach((a, i) => {
        if (a.hooks.some((h) => (h.stepOptions?.(s, a.loop)?.observers?.length ?? 0) > 0)) observed[i]!++
      })
      for (let k = 0; k < arms.length; k++) {
        const i = (s + k) % arms.length
        const arm = arms[i]!
        const t0 = performance.now()
        const c0 = process.cpuUsage()
        yield* Trainer.train({ loop: arm.loop, stream, evalSet: [], config: { ...config, steps: s + 1 }, hooks: arm.hooks, from: s }).pipe(
          Effect.provideService(EventBus, bus),
          Effect.orDie
        )
        if (s >= warmup) {
          times[i]!.push(performance.now() - t0)
          const c1 = process.cpuUsage(c0)
          cpu[i]!.push((c1.user + c1.system) / 1000)
        }
      }
    }
    for (const a of arms) {
      a.dispose()
      a.loop.dispose()
    }
    const paired = (xs: ReadonlyArray<number>, ys: ReadonlyArray<number>) => summarize(xs.map((x, r) => x / ys[r]!)).median - 1
    const last = criteria.length - 1
    return {
      plainMs: summarize(times[0]!),
      arms: criteria.slice(1).map((arm, a) => ({
        criterion: arm === heldTaylor ? `${arm.id} (h, ∂L/∂h held: needs.step true)` : arm.id,
        stepMs: summarize(times[a + 1]!),
        overhead: paired(times[a + 1]!, times[0]!),
        cpuOverhead: paired(cpu[a + 1]!, cpu[0]!),
        observedSteps: observed[a + 1]!
      })),
      plainObserved: observed[0]!,
      ...(held ? { tapVsHeld: paired(times[1]!, times[last]!), tapVsHeldCpu: paired(cpu[1]!, cpu[last]!) } : {})
    }
  })

/**
 * Standalone, with more rounds than the table's run (the same measurement):
 *   npx tsx bench/src/SignalsEndToEnd.ts [--config reference] [--threads N] [--steps 16] [--warmup 2] [--held]
 * (`--held`: a fourth arm, `select/taylor` holding h and ∂L/∂h to the step's end, as before Taylor
 * ran in the backward pass's tap)
 */
const main = async () => {
  const { inWords, start } = await import("./Standalone.ts")
  const { threads, config: c, steps, warmup } = await start(16)
  const r = await Effect.runPromise(measure(c, steps, warmup, process.argv.includes("--held")))
  console.log(`${c.name}, wasm ${threads} threads, ${steps} rounds: select/magnitude-smallest (no signal; ${r.plainObserved} steps observed) step ${inWords(r.plainMs)}`)
  for (const a of r.arms) {
    console.log(`  ${a.criterion}, its signal accumulated at every step (${a.observedSteps} steps observed): step ${inWords(a.stepMs)}; ` +
      `paired overhead ${(a.overhead * 100).toFixed(2)}% (CPU time ${(a.cpuOverhead * 100).toFixed(2)}%); ratio of medians ${(a.stepMs.median / r.plainMs.median).toFixed(4)}`)
  }
  if (r.tapVsHeld !== undefined) {
    console.log(`  select/taylor in the tap vs held to the step's end: paired ${(r.tapVsHeld * 100).toFixed(2)}% (CPU time ${(r.tapVsHeldCpu! * 100).toFixed(2)}%)`)
  }
  console.log(JSON.stringify({ bench: "gradient-signals-end-to-end", config: c.name, threads, ...r }))
}

if (import.meta.url === `file://${process.argv[1]}`) void main()
