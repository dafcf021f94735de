/**
 * When recycling stages fire: the stages due at a step (given how often each already fired), the
 * firing steps of every stage over a run (`rekindle plan`), and the stages that can never fire,
 * which are a user error naming `recycling.<i>.schedule`. Semantics are `Stage.fires`.
 */
import { type Errors, UserError } from "@rekindle/core"
import { fires, firingSteps, type Stage } from "./Stage.ts"

/** The stages that fire at `step`, in index order. `fired[i]` = firings of stage i so far. */
export const due = <S extends Pick<Stage, "schedule">>(stages: ReadonlyArray<S>, step: number, fired: ReadonlyArray<number>): Array<S> =>
  stages.filter((s, i) => fires(s.schedule, step, fired[i] ?? 0))

/** One stage's firing steps over a run. */
export interface StagePlan {
  readonly stage: number
  readonly steps: ReadonlyArray<number>
}

/** Every stage's firing steps in [0, steps). */
export const plan = (stages: ReadonlyArray<Pick<Stage, "schedule">>, steps: number): Array<StagePlan> =>
  stages.map((s, stage) => ({ stage, steps: firingSteps(s.schedule, steps) }))

/** One problem per stage that never fires within [0, steps). */
export const neverFiring = (stages: ReadonlyArray<Pick<Stage, "schedule">>, steps: number): Array<Errors.Problem> =>
  plan(stages, steps).flatMap(({ stage, steps: at }) => {
    if (at.length > 0) return []
    const s = stages[stage]!.schedule
    const why = s.until !== undefined && s.until < s.from
      ? `until (${s.until}) is before from (${s.from})`
      : `its first step would be ${s.from}, but training runs steps 0..${steps - 1}`
    return [{ path: `recycling.${stage}.schedule`, message: `stage ${stage} never fires: ${why}` }]
  })

/** A UserError listing the stages that can never fire, or undefined when all can. */
export const check = (stages: ReadonlyArray<Pick<Stage, "schedule">>, steps: number): UserError | undefined => {
  const problems = neverFiring(stages, steps)
  if (problems.length === 0) return undefined
  return new UserError({ message: problems.map((p) => `${p.path}: ${p.message}`).join("\n"), problems })
}
