/**
 * When recycling stages fire: the stages due at a step (given how often each already fired), the
 * firing steps of every stage over a run (`rekindle plan`). Semantics are `Stage.fires`; a stage
 * that can never fire is `Stage.neverFires`.
 */
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
