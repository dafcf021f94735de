/**
 * The `rekindle` command line: the root command, its subcommands, and the mapping from outcomes
 * to exit codes: 0 on success, 2 on a user error (message only, no stack trace; also bad flags),
 * 1 on an internal error (with its trace) or a run that failed numerically.
 */
import { formatUserError, UserError } from "@rekindle/core"
import { Cause, Console, Effect } from "effect"
import { CliError, Command } from "effect/cli"
import { compare } from "./commands/Compare.ts"
import { magnitudes } from "./commands/Magnitudes.ts"
import { plan } from "./commands/Plan.ts"
import { plugins } from "./commands/Plugins.ts"
import { report } from "./commands/Report.ts"
import { reproduce } from "./commands/Reproduce.ts"
import { resume } from "./commands/Resume.ts"
import * as Run from "./commands/Run.ts"
import { schema } from "./commands/Schema.ts"
import { validate } from "./commands/Validate.ts"

/** rekindle's version. */
export const version = "0.1.0"

/** The built-in subcommands (a host may add more with `make`). */
export const commands = [Run.make(), resume, reproduce, validate, plan, schema, plugins, compare, report, magnitudes] as const

/** The root command over the given subcommands. */
export const make = <const Subs extends ReadonlyArray<Command.Command<any, any, any, any, any>>>(subcommands: Subs) =>
  Command.make("rekindle").pipe(
    Command.withDescription("Neuron-recycling research on transformers: run, check and compare pipelines"),
    Command.withSubcommands(subcommands)
  )

/** The root command with the built-in subcommands. */
export const root = make(commands)

const exitCodeOf = (error: unknown): Effect.Effect<number, unknown> => {
  if (error instanceof UserError) return Effect.as(Console.error(formatUserError(error)), 2)
  if (error instanceof Run.ExitCode) return Effect.succeed(error.code)
  if (CliError.isCliError(error)) {
    // effect/cli already printed the problem (and help)
    return Effect.succeed(error._tag === "ShowHelp" && error.errors.length === 0 ? 0 : 2)
  }
  return Effect.fail(error)
}

/**
 * Runs the CLI on `argv` (without node and script) and returns the exit code. Internal errors
 * print their full cause (with stack traces) and give 1; interruption propagates.
 */
export const runCommand = <Name extends string, I, C, E, R>(command: Command.Command<Name, I, C, E, R>) =>
(argv: ReadonlyArray<string>) =>
  Command.runWith(command, { version })(argv).pipe(
    Effect.as(0),
    Effect.catch(exitCodeOf),
    Effect.catchCause((cause) =>
      Cause.hasInterruptsOnly(cause)
        ? Effect.failCause(cause)
        : Effect.as(Console.error(`internal error (a bug in rekindle or a plugin):\n${Cause.pretty(cause)}`), 1)
    )
  )

/** Runs the built-in CLI on `argv`; resolves to the exit code. */
export const run = runCommand(root)
