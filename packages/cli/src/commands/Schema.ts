/**
 * `rekindle schema [--out FILE]`: the JSON Schema of pipelines, including every registered
 * part's options (for editor completion in .json/.yaml pipelines).
 */
import { Files, UserError } from "@rekindle/core"
import { JsonSchema } from "@rekindle/pipeline"
import { Console, Effect, FileSystem, Option } from "effect"
import { Command, Flag } from "effect/cli"
import * as Host from "../Host.ts"

/** The `schema` command. */
export const schema = Command.make(
  "schema",
  { out: Flag.String("out").pipe(Flag.withDescription("Write to this file instead of stdout"), Flag.optional) },
  Effect.fn("schema")(function*({ out }) {
    const registry = yield* Host.registry()
    const text = JSON.stringify(JsonSchema.document(registry), null, 2) + "\n"
    if (Option.isNone(out)) return yield* Console.log(text.trimEnd())
    yield* Files.writeTextAtomic(out.value, text).pipe(
      Effect.mapError((e) => new UserError({ message: `--out ${out.value}: ${e.message}` }))
    )
    yield* Console.log(`wrote ${out.value}`)
  })
).pipe(Command.withDescription("Print the JSON Schema of pipelines (with every registered part's options)"))
