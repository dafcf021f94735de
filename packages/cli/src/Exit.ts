/**
 * From a command's outcome to the process's exit code: 0 on success, 2 on a user error (message
 * only, no stack trace; also bad flags), 1 on an internal error (with its trace) or a run that
 * failed numerically (`ExitCode`).
 */
import { formatUserError, UserError } from "@rekindle/core"
import { Cause, Console, Effect } from "effect"
import { CliError, Command } from "effect/cli"
import { ExitCode } from "./commands/Run.ts"

/** rekindle's version. */
export const version = "0.1.0"

const exitCodeOf = (error: unknown): Effect.Effect<number, unknown> => {
  if (error instanceof UserError) return Effect.as(Console.error(formatUserError(error)), 2)
  if (error instanceof ExitCode) return Effect.succeed(error.code)
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

