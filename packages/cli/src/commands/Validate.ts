/**
 * `rekindle validate <pipeline>`: decodes and resolves everything (every part built) without
 * training; prints every problem with its field path, what was expected and what was found.
 */
import { Console, Effect } from "effect"
import { Command } from "effect/cli"
import * as Host from "../Host.ts"
import * as Lazy from "../Lazy.ts"
import { pipelineArg, setFlag } from "./Shared.ts"

/** The `validate` command. */
export const validate = Command.make(
  "validate",
  { pipeline: pipelineArg, set: setFlag },
  Effect.fn("validate")(function*({ pipeline, set }) {
    const { Compile } = yield* Lazy.pipeline
    const prepared = yield* Host.prepare(pipeline, set)
    if (prepared._tag === "Pipeline") {
      const plan = yield* Compile.compile(prepared.registry, prepared.pipeline)
      yield* Console.log(
        `${pipeline}: ok (${plan.name}: ${plan.train.steps} steps, ${plan.recycling.length} recycling stage(s), ` +
          `optimizer ${plan.optimizer.id}, backend ${plan.backend.name})`
      )
      return
    }
    for (const v of prepared.variants) {
      yield* Compile.compile(prepared.registry, v.pipeline).pipe(
        Effect.mapError((e) => Host.within(`variant ${v.name} (seed ${v.seed})`, e))
      )
    }
    yield* Console.log(`${pipeline}: ok (study ${prepared.study.name}: ${prepared.variants.length} run(s))`)
  })
).pipe(Command.withDescription("Check a pipeline or study without training; print every problem"))
