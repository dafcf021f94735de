/**
 * The cost of gradient signals: training steps with a signal host observing at every step (arm 0:
 * the h / ∂L/∂h capture alone, no signal; arm 1: `signal/taylor`, in the backward pass's tap; arm 2:
 * `signal/taylor` on h and ∂L/∂h held to the step's end, as before; arm 3: `signal/taylor`,
 * `signal/snip` and `signal/grad-norm`; mean windows:
 * h·∂L/∂h captured in the activation's gradient and reduced on device, |W ⊙ ∇W| and ‖∇W‖ from the
 * step's gradients) against plain steps, interleaved round by round on loops from the same initial
 * state (the machine's load drifts; the order rotates so that none always pays for another's
 * garbage). The time inside the observer (its tap during the backward pass, where Taylor runs,
 * and its end-of-step call) is also reported on its own (robust to load: it is the signals' work
 * alone, the capture itself excluded). Without any request
 * the host installs no observer and the step is the plain one, so that cost is 0 by construction.
 */
import { Key, type Signal } from "@rekindle/core"
import { Model } from "@rekindle/model"
import { adam } from "@rekindle/plugin-optim"
import { gradNorm, snip, taylor } from "@rekindle/plugin-signal"
import { TrainLoop } from "@rekindle/training"
import { SignalHost } from "@rekindle/recycling"
import type { BenchConfig } from "./Configs.ts"
import { type Summary, summarize } from "./Stats.ts"
import * as Synthetic from "./Synthetic.ts"

/** One arm of the comparison: a set of signals observed at every step. */
interface ArmCost {
  readonly signals: ReadonlyArray<string>
  readonly stepMs: Summary
  /** Median over rounds of (this arm's step / the plain step of the same round) − 1. */
  readonly overhead: number
  /** Time inside the observer (the signals' reductions, in its tap or at the step's end, and window folds), per step. */
  readonly observeMs: Summary
  /** observeMs.median / plain step median: the signals' own work, without the tap's. */
  readonly observeVsStep: number
}

/** What the comparison measured. */
export interface SignalsCost {
  readonly plainMs: Summary
  /**
   * Arms: the capture tap alone (no signal), `taylor` alone (what `select/taylor` asks for: in the
   * tap), `taylor` on h and ∂L/∂h held to the step's end (as before), taylor + snip + grad-norm.
   */
  readonly arms: ReadonlyArray<ArmCost>
  /** The overhead of the largest arm (taylor + snip + grad-norm), for the table. */
  readonly overhead: number
}

const builtins = {
  taylor,
  snip,
  "grad-norm": gradNorm,
  // before/after: Taylor at the step's end on h and ∂L/∂h held until then (`needs.step: true`)
  "taylor (held)": (): Signal.Signal => ({ ...taylor(), needs: { step: true } })
} as const

/** Times `steps` rounds (after `warmup` untimed ones), each a plain step and one step per arm, in rotating order. */
export const measure = (c: BenchConfig, steps: number, warmup: number): SignalsCost => {
  const model = Model.make(c.model)
  const stream = Synthetic.stream(c.batchSize, c.model.seqLen, c.model.vocabSize)
  const armSignals: Array<Array<keyof typeof builtins>> = [[], ["taylor"], ["taylor (held)"], ["taylor", "snip", "grad-norm"]]
  const hosts = armSignals.map((names) =>
    SignalHost.make({
      topology: model.topology,
      config: model.config,
      bound: names.map((name) => ({
        consumer: "bench",
        name,
        id: `signal/${name}`,
        key: `signal/${name} {}`,
        signal: builtins[name](),
        window: { kind: "mean" },
        every: 1
      }))
    })
  )
  const loops = [0, ...hosts].map(() => TrainLoop.make(model, adam({ lr: 1e-3 }), model.init(Key.make(1))))
  const times: Array<Array<number>> = loops.map(() => [])
  const observeTimes: Array<Array<number>> = hosts.map(() => [])
  for (let s = 0; s < warmup + steps; s++) {
    const batch = Model.toTensors(stream.next())
    const ms: Array<number> = loops.map(() => 0)
    for (let k = 0; k < loops.length; k++) {
      const i = (s + k) % loops.length
      const host = i === 0 ? undefined : hosts[i - 1]!
      // the empty arm captures h and ∂L/∂h and computes nothing: the tap's own cost
      const inner = host === undefined ? undefined : armSignals[i - 1]!.length === 0 ? { hidden: true, observe: () => {} } : host.observer(s)
      let observed = 0
      const tap = inner?.tap
      const observer = inner === undefined ? undefined : {
        hidden: inner.hidden,
        // signals reading h and ∂L/∂h alone (taylor) run in the tap, during the backward pass: timed too
        ...(tap === undefined ? {} : {
          tap: (t: Parameters<typeof tap>[0]) => {
            const t0 = performance.now()
            tap(t)
            observed += performance.now() - t0
          }
        }),
        observe: (o: Parameters<typeof inner.observe>[0]) => {
          const t0 = performance.now()
          inner.observe(o)
          observed += performance.now() - t0
        }
      }
      const t0 = performance.now()
      const loss = loops[i]!.step(batch, undefined, observer === undefined ? undefined : { observers: [observer] })
      loss.dataSync()
      ms[i] = performance.now() - t0
      loss.dispose()
      if (s >= warmup && i > 0) observeTimes[i - 1]!.push(observed)
    }
    if (s >= warmup) ms.forEach((x, i) => times[i]!.push(x))
    Model.disposeBatch(batch)
  }
  // the values are read as a criterion would (one transfer per layer and signal)
  for (const h of hosts) {
    h.read("bench")
    h.dispose()
  }
  for (const l of loops) l.dispose()
  const plainMs = summarize(times[0]!)
  const arms = armSignals.map((names, a) => {
    const stepMs = summarize(times[a + 1]!)
    const observeMs = summarize(observeTimes[a]!)
    return {
      signals: names.map((n) => `signal/${n}`),
      stepMs,
      overhead: summarize(times[a + 1]!.map((x, i) => x / times[0]![i]!)).median - 1,
      observeMs,
      observeVsStep: observeMs.median / plainMs.median
    }
  })
  return { plainMs, arms, overhead: arms[arms.length - 1]!.overhead }
}

/**
 * Standalone, with more steps than the table's run:
 *   npx tsx bench/src/Signals.ts [--config reference] [--threads N] [--steps 20] [--warmup 2]
 */
const main = async () => {
  const { inWords, start } = await import("./Standalone.ts")
  const { threads, config: c, steps, warmup } = await start(20)
  const r = measure(c, steps, warmup)
  console.log(`${c.name}, wasm ${threads} threads: plain step ${inWords(r.plainMs)}`)
  for (const a of r.arms) {
    console.log(`  ${a.signals.length === 0 ? "capture tap only" : a.signals.join(" + ")} at every step: step ${inWords(a.stepMs)}; overhead (median of paired ratios) ${(a.overhead * 100).toFixed(2)}%; ` +
      `inside the observer ${a.observeMs.median.toFixed(1)} ms (min ${a.observeMs.min.toFixed(1)}) = ${(a.observeVsStep * 100).toFixed(2)}% of the plain step`)
  }
  console.log(JSON.stringify({ bench: "gradient-signals", config: c.name, threads, ...r }))
}

if (import.meta.url === `file://${process.argv[1]}`) void main()
