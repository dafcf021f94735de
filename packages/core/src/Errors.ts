/**
 * Error types shared by every package. `UserError`s are the user's to fix (bad pipeline, missing
 * file, ...): the CLI prints their message without a stack trace and exits 2. Anything else is a
 * bug and exits 1 with its trace.
 */
import { Data } from "effect"

/** One problem in user input: where (a field path like `model.dModel`), what was expected, what was found. */
export interface Problem {
  readonly path: string
  readonly message: string
}

/** A problem the user can fix; exit code 2, no stack trace. */
export class UserError extends Data.TaggedError("UserError")<{
  readonly message: string
  readonly problems?: ReadonlyArray<Problem>
}> {}

/** A user error for the terminal: `error: <message>`, then any problems the message does not list. */
export const formatUserError = (e: UserError): string => {
  const problems = (e.problems ?? []).filter((p) => !e.message.includes(p.message))
  return [`error: ${e.message}`, ...problems.map((p) => `  ${p.path === "" ? "" : `${p.path}: `}${p.message}`)].join("\n")
}

/** A plugin failed to build a part from its options. */
export class PluginError extends Data.TaggedError("PluginError")<{
  readonly part: string
  readonly message: string
}> {}

/** A run failed at a step for a numeric reason (non-finite loss or parameter, broken invariant). */
export class RunError extends Data.TaggedError("RunError")<{
  readonly step: number
  readonly message: string
}> {}

/** Formats problems one per line as `path: message`. */
export const formatProblems = (problems: ReadonlyArray<Problem>): string =>
  problems.map((p) => (p.path === "" ? p.message : `${p.path}: ${p.message}`)).join("\n")
