/**
 * Test helpers: run an Effect and get its UserError (or value) synchronously.
 */
import { UserError } from "@rekindle/core"
import { Effect, Exit, Cause } from "effect"

/** Runs an effect that must fail with a UserError; returns the error. */
export const userErrorOf = <A, R>(effect: Effect.Effect<A, UserError, R>): UserError => {
  const exit = Effect.runSyncExit(effect as Effect.Effect<A, UserError>)
  if (Exit.isSuccess(exit)) throw new Error(`expected a UserError, got success: ${JSON.stringify(exit.value)}`)
  const err = Cause.squash(exit.cause)
  if (!(err instanceof UserError)) throw new Error(`expected a UserError, got ${String(err)}`)
  return err
}

/** Runs an effect that must succeed. */
export const valueOf = <A, E>(effect: Effect.Effect<A, E>): A => Effect.runSync(effect)

/** The problems of a UserError as `path: message` lines. */
export const lines = (e: UserError): Array<string> => (e.problems ?? []).map((p) => `${p.path}: ${p.message}`)
