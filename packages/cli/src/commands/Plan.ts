/**
 * `rekindle plan <pipeline>`: from the pipeline alone, which steps fire which recycling stages,
 * when evaluations and checkpoints happen, how many neurons each recycling event touches, and what
 * each step hook will do (its part's own description: pruning growth steps, the retraining window,
 * the midpoint-loss settings, ...).
 * A stage that can never fire is an error (exit 2), reported by resolution.
 */
import { Plan, Resolve } from "@rekindle/pipeline"
import { Console, Effect } from "effect"
import { Command } from "effect/cli"
import * as Host from "../Host.ts"
import { pipelineArg, setFlag } from "./Shared.ts"

/** A list of at most `max` items: a longer one keeps its first `max − 3` and last 2 around "…". */
const elide = <A>(xs: ReadonlyArray<A>, max: number): Array<A | "…"> =>
  xs.length <= max ? [...xs] : [...xs.slice(0, max - 3), "…", ...xs.slice(-2)]

/** A list of steps, elided in the middle when long. */
const steps = (xs: ReadonlyArray<number>, max = 12): string => (xs.length === 0 ? "none" : elide(xs, max).join(", "))

/** Renders a schedule as text. */
const render = (name: string, p: Plan.SchedulePlan): string => {
  const lines = [
    `${name}: ${p.steps} steps, ${p.layers} layer(s) × ${p.dFF} FF neurons`,
    `  evaluations after steps: ${steps(p.evals)}`,
    `  checkpoints after steps: ${steps(p.checkpoints)}`
  ]
  if (p.stages.length === 0) lines.push("  recycling: none")
  for (const s of p.stages) {
    const k = s.scope === "per-layer"
      ? `k = round(${s.fraction} × ${p.dFF}) = ${s.kPerLayer} per layer, ${s.kTotal} per event`
      : `k = round(${s.fraction} × ${p.dFF} × ${p.layers}) = ${s.kTotal} per event over all layers`
    lines.push(
      `  stage ${s.index}: ${s.criterion} -> ${s.reinit} (${s.scope}); ${k}`,
      `    fires before steps: ${steps(s.firing)} (${s.firing.length} time(s), ${s.firing.length * s.kTotal} neuron resets in total)`
    )
  }
  for (const h of p.hooks) {
    lines.push(`  ${h.summary}`, ...elide(h.rows, 6).map((x) => (x === "…" ? "    …" : `    ${x}`)))
  }
  return lines.join("\n")
}

/** The `plan` command. */
export const plan = Command.make(
  "plan",
  { pipeline: pipelineArg, set: setFlag },
  Effect.fn("plan")(function*({ pipeline, set }) {
    const prepared = yield* Host.prepare(pipeline, set)
    const items = prepared._tag === "Pipeline"
      ? [{ label: "", pipeline: prepared.pipeline }]
      : prepared.variants.map((v) => ({ label: `variant ${v.name} (seed ${v.seed})`, pipeline: v.pipeline }))
    for (const item of items) {
      const resolved = yield* Resolve.resolve(prepared.registry, item.pipeline).pipe(
        Effect.mapError((e) => (item.label === "" ? e : Host.within(item.label, e)))
      )
      yield* Console.log(render(resolved.spec.name, Plan.schedule(resolved)))
    }
  })
).pipe(Command.withDescription("Show which steps fire which recycling stages, evaluations and checkpoints"))
