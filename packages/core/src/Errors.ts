/**
 * Error types shared by every package, as `Schema.TaggedError`s that travel in the error channel
 * and are handled by tag (`Effect.catchTag("UserError", ...)`). `UserError`s are the user's to fix
 * (bad pipeline, missing file, ...): the CLI prints their message without a stack trace and exits
 * 2; so does a `PluginError` (`asUserError`). A `RunError` is a run that failed at a step (exit 1, no trace). Anything else, thrown or died
 * with, is a bug and exits 1 with its trace.
 */
import { Predicate, Schema } from "effect"
import * as FileErrors from "./FileErrors.ts"

/** One problem in user input: where (a field path like `model.dModel`), what was expected, what was found. */
export interface Problem {
  readonly path: string
  readonly message: string
}

const ProblemSchema = Schema.Struct({ path: Schema.String, message: Schema.String })

/** A problem the user can fix; exit code 2, no stack trace. */
export class UserError extends Schema.TaggedError<UserError>()("UserError", {
  message: Schema.String,
  problems: Schema.optionalKey(Schema.Array(ProblemSchema))
}) {}

/** A user error for the terminal: `error: <message>`, then any problems the message does not list. */
export const formatUserError = (e: UserError): string => {
  const problems = (e.problems ?? []).filter((p) => !e.message.includes(p.message))
  return [`error: ${e.message}`, ...problems.map((p) => `  ${p.path === "" ? "" : `${p.path}: `}${p.message}`)].join("\n")
}

/** A plugin failed to build a part from its options. */
export class PluginError extends Schema.TaggedError<PluginError>()("PluginError", {
  part: Schema.String,
  message: Schema.String
}) {}

/** A run failed at a step for a numeric reason (non-finite loss or parameter, broken invariant). */
export class RunError extends Schema.TaggedError<RunError>()("RunError", {
  step: Schema.Number,
  message: Schema.String
}) {
  /**
   * A failure thrown at `step` as a `RunError`: itself when it is one, else one with its message,
   * prefixed by `<what> failed: ` when `what` is given (`Effect.try({ ..., catch: RunError.from(step, "pruning") })`).
   */
  static readonly from = (step: number, what?: string) => (e: unknown): RunError =>
    isRunError(e) ? e : new RunError({ step, message: `${what === undefined ? "" : `${what} failed: `}${e instanceof Error ? e.message : String(e)}` })
}

/** A sink failed to write or flush (the event bus drops an optional sink and fails the run for a required one). */
export class SinkError extends Schema.TaggedError<SinkError>()("SinkError", {
  sink: Schema.String,
  message: Schema.String
}) {
  /**
   * A sink's failure (typically a file-system error) as a `SinkError` whose message says it in
   * words (`the disk is full (ENOSPC: ...)`): `Effect.mapError(SinkError.from(name))`.
   */
  static readonly from = (sink: string) => (e: unknown): SinkError => new SinkError({ sink, message: FileErrors.describe(e) })
}

/** A backend failed to initialise. */
export class BackendError extends Schema.TaggedError<BackendError>()("BackendError", {
  backend: Schema.String,
  message: Schema.String
}) {}

/**
 * An invariant violation: a bug in rekindle or in a plugin if it is ever reached. Expected failures
 * (bad input, missing files, incompatible options) are checked before and travel as the tagged
 * errors above; a `Bug` is thrown from synchronous code (kernels, tensor helpers, the guards of
 * library functions) and inside Effect surfaces as a defect: exit 1 with its trace. Its name stays
 * `Error`, so messages that quote it read as before.
 */
export class Bug extends Error {}

/** Whether a value (thrown or failed with) is a `UserError`; for code outside Effect (thrown errors, `Effect.try` catches). */
export const isUserError = (u: unknown): u is UserError => Predicate.isTagged(u, "UserError")

/**
 * The user-facing form of a failure the user can fix: a `UserError` itself, or a `PluginError` (a
 * part that could not be built from its options or its environment, e.g. a sink's folder) as a
 * `UserError` naming the part; undefined for anything else.
 */
export const asUserError = (u: unknown): UserError | undefined =>
  isUserError(u)
    ? u
    : Predicate.isTagged(u, "PluginError")
    ? new UserError({ message: `${(u as PluginError).part}: ${(u as PluginError).message}` })
    : undefined

/** Whether a value (thrown or failed with) is a `RunError`; for code outside Effect. */
export const isRunError = (u: unknown): u is RunError => Predicate.isTagged(u, "RunError")

/** Formats problems as `path: message`, one per line (or joined by `separator`). */
export const formatProblems = (problems: ReadonlyArray<Problem>, separator = "\n"): string =>
  problems.map((p) => (p.path === "" ? p.message : `${p.path}: ${p.message}`)).join(separator)
