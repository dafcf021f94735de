/**
 * `--set path=value` overrides: the value is read as YAML (so `10` is a number, `true` a boolean,
 * `{use: optim/sgd, lr: 0.1}` an object, anything else a string). The path is checked when the
 * overridden pipeline is decoded (an unknown key names the closest known one).
 */
import { isUserError, UserError } from "@rekindle/core/Errors"
import { Effect } from "effect"
import YAML from "yaml"
import * as Lazy from "./Lazy.ts"

/** One parsed override. */
export interface Override {
  readonly path: string
  readonly value: unknown
}

/** Parses `path=value` flags. */
export const parse = (flags: ReadonlyArray<string>): Effect.Effect<ReadonlyArray<Override>, UserError> =>
  Effect.forEach(flags, (flag) =>
    Effect.suspend(() => {
      const eq = flag.indexOf("=")
      const path = eq < 0 ? "" : flag.slice(0, eq).trim()
      if (eq < 0 || path === "" || !/^[A-Za-z0-9_.-]+$/.test(path)) {
        return Effect.fail(new UserError({ message: `--set ${flag}: expected path=value, e.g. --set train.steps=100` }))
      }
      const text = flag.slice(eq + 1)
      try {
        return Effect.succeed({ path, value: text.trim() === "" ? "" : YAML.parse(text) as unknown })
      } catch (e) {
        return Effect.fail(new UserError({ message: `--set ${flag}: cannot read the value (${e instanceof Error ? e.message.split("\n")[0] : String(e)})` }))
      }
    }))

/** Applies overrides in order to a pipeline value. */
export const apply = <T>(pipeline: T, overrides: ReadonlyArray<Override>): Effect.Effect<T, UserError> =>
  Effect.flatMap(Lazy.pipeline, ({ Paths }) =>
    Effect.try({
      try: () => overrides.reduce((p, o) => Paths.set(p, o.path, o.value), pipeline),
      catch: (e) =>
        isUserError(e) ? new UserError({ message: `--set ${e.message}` }) : new UserError({ message: `--set: ${String(e)}` })
    }))
