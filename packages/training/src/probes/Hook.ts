/**
 * The probe runner: a trainer step hook that runs the pipeline's probes at their cadence. A probe
 * with `every: N` runs before steps 0, N, 2N, … (with `step` = optimizer steps done so far, so
 * step 0 is the untrained model) and once more at the end of training (step = total steps),
 * unless it already ran at that step. Signals are measured once per step for all due probes with
 * the recycler's `Measure.measure` (weight norms and magnitudes, plus activation statistics on the
 * run's probe batch when a due probe needs them), and every probe's events go to the run's sinks.
 *
 * Placed before the recycling hook, probes see each step's state before that step's recycling
 * (the `Recycle` event of the same step carries magnitudes before and after).
 */
import { Bug, EventBus, type LineageView, type Loop, type Probe, RunError, type StepHook } from "@rekindle/core"
import { type BatchTensors, type ForwardOptions, Measure } from "@rekindle/model"
import { Effect } from "effect"
import { Lineage, SignalConsumers, type SignalHost } from "@rekindle/recycling"

/** What the probe runner needs. */
export interface ProbeHookOptions {
  readonly model: Measure.Measurable
  readonly probes: ReadonlyArray<{ readonly id: string; readonly probe: Probe }>
  /** The run's probe batch (activation statistics); probes needing activations fail without it. */
  readonly batch?: BatchTensors
  /** Per-neuron recycling history (the recycler's); default: no neuron was ever recycled. */
  readonly lineage?: () => LineageView
  /** Forward options at a step (the recycler's smooth-reinit blends), used for activation statistics. */
  readonly forward?: (step: number) => ForwardOptions | undefined
  /** The run's signal host: probes that declared `signals` read their values from it (consumer `probes.<i>`). */
  readonly signals?: SignalHost.Host
}

/** The probe runner: a step hook, plus `end` for the run's last step. */
export interface ProbeHook extends StepHook {
  /** Runs every probe at the final step (`loop.stepsDone()`), unless it already ran there. */
  readonly end: (loop: Loop) => Effect.Effect<void, RunError, EventBus>
  /** Steps at which the probes ran so far (in order). */
  readonly ranAt: () => ReadonlyArray<number>
}

/** Whether a probe with cadence `every` runs before `step`. */
export const isDue = (every: number, step: number): boolean => every > 0 && step % every === 0

/** Builds the probe runner. */
export const make = (options: ProbeHookOptions): ProbeHook => {
  const empty = Lineage.view(Lineage.make(options.model.topology))
  const lineage = options.lineage ?? (() => empty)
  const lastRun = new Map<object, number>()
  const steps: Array<number> = []

  const runProbes = (step: number, loop: Loop, due: ReadonlyArray<{ readonly id: string; readonly probe: Probe }>) =>
    Effect.gen(function*() {
      if (due.length === 0) return
      const events = yield* EventBus
      const produced = yield* Effect.try({
        try: () => {
          const acts = due.some((p) => p.probe.needs.activations)
          if (acts && options.batch === undefined) throw new Bug(`probe ${due.find((p) => p.probe.needs.activations)!.id} needs activations but the run has no probe batch`)
          const signals = Measure.measure(options.model, loop.params, step, acts ? options.batch : undefined, options.forward?.(step))
          const base = { step, signals, lineage: lineage() }
          return due.flatMap((p) => {
            const consumer = SignalConsumers.probeConsumer(options.probes.indexOf(p))
            const host = options.signals
            const ctx = host === undefined || !host.has(consumer) ? base : (() => {
              const values = host.read(consumer)
              return { ...base, signals: { step, layers: signals.layers.map((l, q) => ({ ...l, values: values[q]! })) } }
            })()
            try {
              return [...p.probe.run(ctx)]
            } catch (e) {
              throw new Bug(`probe ${p.id} failed: ${e instanceof Error ? e.message : String(e)}`)
            }
          })
        },
        catch: RunError.from(step)
      })
      for (const p of due) lastRun.set(p, step)
      steps.push(step)
      for (const e of produced) yield* events.emit(e)
    })

  return {
    before: (step, loop) =>
      runProbes(step, loop, options.probes.filter((p) => isDue(p.probe.every, step))).pipe(Effect.as(undefined)),
    end: (loop) => {
      const step = loop.stepsDone()
      return runProbes(step, loop, options.probes.filter((p) => lastRun.get(p) !== step))
    },
    ranAt: () => steps
  }
}
