/**
 * The `rekindle` command line: the root command, its subcommands, and the mapping from outcomes
 * to exit codes: 0 on success, 2 on a user error (message only, no stack trace; also bad flags),
 * 1 on an internal error (with its trace) or a run that failed numerically.
 */
import { Command } from "effect/cli"
import { compare } from "./commands/Compare.ts"
import { magnitudes } from "./commands/Magnitudes.ts"
import { newPackage } from "./commands/New.ts"
import { plan } from "./commands/Plan.ts"
import { plugins } from "./commands/Plugins.ts"
import { replicate } from "./commands/Replicate.ts"
import { report } from "./commands/Report.ts"
import { reproduce } from "./commands/Reproduce.ts"
import { resume } from "./commands/Resume.ts"
import * as Run from "./commands/Run.ts"
import { runCommand } from "./Exit.ts"
import { schema } from "./commands/Schema.ts"
import { validate } from "./commands/Validate.ts"
import { worker } from "./commands/Cluster.ts"
import { studyCommand } from "./commands/Study.ts"

export { runCommand, version } from "./Exit.ts"

/** The built-in subcommands (a host may add more with `make`). */
export const commands = [Run.make(), resume, reproduce, validate, plan, schema, plugins, compare, report, magnitudes, newPackage, studyCommand, worker, replicate] as const

/** The root command over the given subcommands. */
export const make = <const Subs extends ReadonlyArray<Command.Command<any, any, any, any, any>>>(subcommands: Subs) =>
  Command.make("rekindle").pipe(
    Command.withDescription("Neuron-recycling research on transformers: run, check and compare pipelines"),
    Command.withSubcommands(subcommands)
  )

/** The root command with the built-in subcommands. */
export const root = make(commands)

/** Runs the built-in CLI on `argv`; resolves to the exit code. */
export const run = runCommand(root)
