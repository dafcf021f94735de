/**
 * The PostgreSQL connection of a cluster: a `postgres://` URL checked up front (a malformed or
 * unreachable URL is a user error naming it, password hidden), and the connection pool every
 * other layer uses.
 */
import { PgClient } from "@effect/sql-pg"
import { UserError } from "@rekindle/core"
import { Cause, Duration, Effect, Redacted } from "effect"
import { SqlClient } from "effect/sql"

/** The URL with its password replaced by `***` (for messages). */
export const redact = (url: string): string => {
  try {
    const u = new URL(url)
    if (u.password !== "") u.password = "***"
    return u.toString()
  } catch {
    return url
  }
}

/** Checks that `url` is a `postgres://` or `postgresql://` URL. */
export const parseUrl = (flag: string, url: string): Effect.Effect<string, UserError> => {
  let u: URL | undefined
  try {
    u = new URL(url)
  } catch {
    u = undefined
  }
  return u !== undefined && (u.protocol === "postgres:" || u.protocol === "postgresql:") && u.hostname !== ""
    ? Effect.succeed(url)
    : Effect.fail(new UserError({ message: `${flag}: expected a PostgreSQL URL like postgres://user:password@host:5432/database, got ${JSON.stringify(redact(url))}` }))
}

/** The connection pool for `url` (connections are made on demand, so a restarted server is reconnected to). */
export const layer = (url: string) =>
  PgClient.layer({
    url: Redacted.make(url),
    connectTimeout: Duration.seconds(10)
  })

/** Fails with a UserError naming the URL when the database cannot be reached or refuses us. */
export const check = (flag: string, url: string): Effect.Effect<void, UserError> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql`SELECT 1`
  }).pipe(
    Effect.provide(layer(url)),
    Effect.timeout(Duration.seconds(20)),
    Effect.catchCause((cause) =>
      Effect.fail(
        new UserError({
          message: `${flag}: cannot use the database at ${redact(url)}: ${causeMessage(cause)}. ` +
            `Check that PostgreSQL runs there and accepts this user (see docs/distributed.md)`
        })
      )
    )
  )

const causeMessage = (cause: Cause.Cause<unknown>): string => {
  const parts: Array<string> = []
  let e: unknown = Cause.squash(cause)
  for (let i = 0; i < 4 && e !== undefined && e !== null; i++) {
    const m = e instanceof Error || (typeof e === "object" && "message" in e) ? String((e as { message: unknown }).message) : String(e)
    if (m !== "" && !parts.includes(m)) parts.push(m)
    e = typeof e === "object" ? (e as { cause?: unknown }).cause : undefined
  }
  return parts.join(": ") || "unknown error"
}
