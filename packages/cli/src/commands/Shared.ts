/**
 * Flags and arguments shared by several commands.
 */
import { Schema } from "effect"
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

/** A flag's description and default, with the default named in `--help` (effect/cli does not show it). */
export const describedDefault = <A>(description: string, value: NoInfer<A>) => (flag: Flag.Flag<A>): Flag.Flag<A> =>
  flag.pipe(Flag.withDescription(`${description} (default: ${String(value)})`), Flag.withDefault(value))

/** `--keep-checkpoints N`: how many of the newest checkpoints a run keeps. */
export const keepCheckpointsFlag = Flag.Int("keep-checkpoints").pipe(
  Flag.withSchema(Schema.Int.pipe(Schema.check(Schema.isGreaterThan(0)))),
  describedDefault("Keep this many of the newest checkpoints (older ones are deleted once a new one is complete)", 3)
)

/** `--cache DIR`: where tokenizers and tokenized corpora are cached. */
export const cacheFlag = Flag.String("cache").pipe(
  describedDefault("Cache folder for tokenizers and tokenized corpora", ".cache/rekindle")
)

/** `--out DIR`: the root folder of runs (optional: `rekindle run --smoke` has its own default). */
export const outFlag = Flag.String("out").pipe(
  Flag.withDescription("Root folder of runs (default: runs; with --smoke: the smoke scratch folder)"),
  Flag.optional
)

/** `--runs-dir DIR`: the root folder of runs (as `rekindle run --out`). */
export const runsDirFlag = Flag.String("runs-dir").pipe(
  Flag.withDescription("Root folder of runs (the study's runs go to DIR/<study>/); shared by every machine of a cluster"),
  Flag.withDefault("runs")
)

/** `--threads T`: the backend's thread count for this cell. */
export const threadsFlag = Flag.Int("threads").pipe(
  Flag.withDescription("Backend threads (overrides the pipeline's backend.threads; wasm results depend on it)"),
  Flag.withSchema(Schema.Int.pipe(Schema.check(Schema.isGreaterThan(0)))),
  Flag.optional
)
