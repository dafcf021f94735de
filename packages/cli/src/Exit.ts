/**
 * From a command's outcome to the process's exit code: 0 on success, 2 on a user error (message
 * only, no stack trace; also a plugin's part that could not be built, bad flags and unknown commands), 1 on an internal error (with its
 * trace) or a run that failed numerically (`ExitCode`).
 */
import { asUserError, formatUserError, UserError } from "@rekindle/core/Errors"
import { Cause, Console, Effect, Predicate } from "effect"
import { CliError, Command } from "effect/cli"
import { createRequire } from "node:module"
import { type ExitCode, smokeDefaultSteps } from "./commands/Run.ts"
import * as Lazy from "./Lazy.ts"

/** rekindle's version (from package.json, as `bin/rekindle.mjs --version` prints it). */
export const version: string = (createRequire(import.meta.url)("../package.json") as { version: string }).version

const exitCodeOf = (error: unknown): Effect.Effect<number, unknown> => {
  const user = asUserError(error)
  if (user !== undefined) return Effect.as(Console.error(formatUserError(user)), 2)
  if (Predicate.isTagged(error, "ExitCode")) return Effect.succeed((error as ExitCode).code)
  if (CliError.isCliError(error)) {
    // effect/cli already printed the problem (and help)
    return Effect.succeed(error._tag === "ShowHelp" && error.errors.length === 0 ? 0 : 2)
  }
  return Effect.fail(error)
}

/**
 * A first argument that names no subcommand, as a user error (with the closest names). effect/cli
 * would print the general help and exit 0 for `rekindle <typo> --help`, hiding the typo.
 */
const unknownSubcommand = (command: Command.Command.Any, argv: ReadonlyArray<string>): Effect.Effect<void, UserError> => {
  const first = argv[0]
  const names = command.subcommands.flatMap((g) => g.commands.map((c) => c.name))
  if (first === undefined || first.startsWith("-") || names.length === 0 || names.includes(first)) return Effect.void
  return Effect.flatMap(
    Lazy.pipeline,
    ({ Suggest: { didYouMean } }) =>
      Effect.fail(new UserError({ message: `unknown command "${first}"${didYouMean(first, names)} (\`${command.name} --help\` lists the commands)` }))
  )
}

/** Flags whose value may be left out (`--smoke` = `--smoke 10`), with the value they then take. */
const optionalValues: Readonly<Record<string, string>> = { "--smoke": String(smokeDefaultSteps) }

/** `argv` with the implied value after each optional-value flag given without one (effect/cli wants a value). */
const withOptionalValues = (argv: ReadonlyArray<string>): Array<string> =>
  argv.flatMap((a, i) => (optionalValues[a] !== undefined && !/^\d+$/.test(argv[i + 1] ?? "") ? [a, optionalValues[a]!] : [a]))

/**
 * Runs the CLI on `argv` (without node and script) and returns the exit code. Internal errors
 * print their full cause (with stack traces) and give 1; interruption propagates.
 */
export const runCommand = <Name extends string, I, C, E, R>(command: Command.Command<Name, I, C, E, R>) =>
(argv: ReadonlyArray<string>) =>
  unknownSubcommand(command, argv).pipe(
    Effect.andThen(Command.runWith(command, { version })(withOptionalValues(argv))),
    Effect.as(0),
    Effect.catch(exitCodeOf),
    Effect.catchCause((cause) =>
      Cause.hasInterruptsOnly(cause)
        ? Effect.failCause(cause)
        : Effect.as(Console.error(`internal error (a bug in rekindle or a plugin):\n${Cause.pretty(cause)}`), 1)
    )
  )
