/**
 * Flags and arguments shared by several commands.
 */
import { Argument, Flag } from "effect/cli"

/** The pipeline file argument. */
export const pipelineArg = Argument.String("pipeline").pipe(
  Argument.withDescription("A pipeline or study file: .ts (default export), .json or .yaml")
)

/** Repeatable `--set path=value`. */
export const setFlag = Flag.String("set").pipe(
  Flag.withDescription("Override a field, e.g. --set train.steps=100 (repeatable; the value is read as YAML)"),
  Flag.atLeast(0)
)
