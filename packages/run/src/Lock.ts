/**
 * One process per run folder: `run.lock` holds the owner's pid, host and process start time and
 * is created with O_EXCL, so a second `run`/`resume` on the same folder is refused while the owner
 * lives. A lock whose owner is gone (killed, crashed, a reused pid with another start time, a
 * zombie) is stale and taken over. The lock is removed when the owning scope closes.
 *
 * Limits: liveness is checked with `kill(pid, 0)` and /proc on this host only; a lock written on
 * another host (a shared folder) always counts as held. Two processes taking over the same stale
 * lock in the same instant are not told apart.
 */
import { UserError } from "@rekindle/core"
import { Effect, FileSystem, Path, type Scope } from "effect"
import * as fsSync from "node:fs"
import * as os from "node:os"
import * as Files from "./Files.ts"

/** The lock file's name inside a run folder. */
export const fileName = "run.lock"

/** What a lock file records. */
export interface LockInfo {
  readonly pid: number
  readonly host: string
  readonly startedAt: string
  /** Start time of the owner process (Linux /proc, clock ticks since boot), to detect pid reuse. */
  readonly procStart?: string
  readonly command?: string
}

/** A lock file's status. */
export type LockState =
  | { readonly _tag: "Free" }
  | { readonly _tag: "Held"; readonly info: LockInfo | undefined; readonly why: string }
  | { readonly _tag: "Stale"; readonly info: LockInfo | undefined; readonly why: string }

/** Fields of /proc/<pid>/stat after the command name: [state, ppid, ..., starttime at index 19]. */
const procStat = (pid: number): ReadonlyArray<string> | undefined => {
  try {
    const text = fsSync.readFileSync(`/proc/${pid}/stat`, "utf8")
    return text.slice(text.lastIndexOf(")") + 2).split(" ")
  } catch {
    return undefined
  }
}

/** This process's start time (Linux), or undefined elsewhere. */
export const procStart = (pid: number): string | undefined => procStat(pid)?.[19]

/** Whether a pid names a live (non-zombie) process on this host, and why not. */
export const alive = (info: LockInfo): { readonly alive: boolean; readonly why: string } => {
  try {
    process.kill(info.pid, 0)
  } catch (e) {
    if ((e as { code?: string }).code === "ESRCH") return { alive: false, why: `process ${info.pid} is gone` }
    // EPERM: it exists but belongs to someone else
  }
  const stat = procStat(info.pid)
  if (stat !== undefined) {
    if (stat[0] === "Z" || stat[0] === "X") return { alive: false, why: `process ${info.pid} has exited (zombie)` }
    if (info.procStart !== undefined && stat[19] !== info.procStart) {
      return { alive: false, why: `pid ${info.pid} now belongs to another process` }
    }
  }
  return { alive: true, why: `process ${info.pid} is running` }
}

const parse = (text: string): LockInfo | undefined => {
  try {
    const v = JSON.parse(text) as Partial<LockInfo>
    if (typeof v.pid === "number" && Number.isInteger(v.pid) && v.pid > 0 && typeof v.host === "string") return v as LockInfo
  } catch {
    // torn or foreign content
  }
  return undefined
}

/** Seconds after which an unreadable lock file (its writer was killed mid-write) counts as stale. */
const unreadableGraceSeconds = 10

/** Reads the lock state of a run folder. */
export const inspect = (dir: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const file = path.join(dir, fileName)
    const text = yield* fs.readFileString(file).pipe(Effect.option)
    if (text._tag === "None") return { _tag: "Free" } as LockState
    const info = parse(text.value)
    if (info === undefined) {
      const age = yield* fs.stat(file).pipe(
        Effect.map((s) => (Date.now() - (s.mtime._tag === "Some" ? s.mtime.value.getTime() : 0)) / 1000),
        Effect.orElseSucceed(() => Infinity)
      )
      return age > unreadableGraceSeconds
        ? { _tag: "Stale", info, why: "the lock file is unreadable (its writer was killed while writing it)" } as LockState
        : { _tag: "Held", info, why: "the lock file is being written" } as LockState
    }
    if (info.host !== os.hostname()) {
      return { _tag: "Held", info, why: `locked by pid ${info.pid} on host ${info.host} (cannot check from here)` } as LockState
    }
    if (info.pid === process.pid && info.procStart === procStart(process.pid)) {
      return { _tag: "Held", info, why: "locked by this process" } as LockState
    }
    const a = alive(info)
    return (a.alive ? { _tag: "Held", info, why: a.why } : { _tag: "Stale", info, why: a.why }) as LockState
  })

const refused = (dir: string, state: Extract<LockState, { _tag: "Held" }>) =>
  new UserError({
    message: `${dir} is in use: ${state.why}` +
      (state.info !== undefined ? ` (${state.info.command ?? "rekindle"}, started ${state.info.startedAt})` : "") +
      `; wait for it to finish or stop it. If no such process exists, delete ${fileName} in that folder.`
  })

/** Fails with a UserError when another live process holds the folder's lock. */
export const checkFree = (dir: string) =>
  Effect.gen(function*() {
    const state = yield* inspect(dir)
    if (state._tag === "Held") return yield* refused(dir, state)
  })

/** A held lock. */
export interface Lock {
  readonly dir: string
  readonly info: LockInfo
  /** Removes the lock file if it is still ours (also done when the scope closes). */
  readonly release: Effect.Effect<void, never, FileSystem.FileSystem | Path.Path>
}

/**
 * Takes the lock of `dir` (which must exist) for the current scope. Fails with a UserError naming
 * the owner when a live process holds it; takes over a stale lock.
 */
export const acquire = (dir: string, command?: string): Effect.Effect<Lock, UserError, FileSystem.FileSystem | Path.Path | Scope.Scope> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const file = path.join(dir, fileName)
    const start = procStart(process.pid)
    const info: LockInfo = {
      pid: process.pid,
      host: os.hostname(),
      startedAt: new Date().toISOString(),
      ...(start !== undefined ? { procStart: start } : {}),
      ...(command !== undefined ? { command } : {})
    }
    const text = JSON.stringify(info) + "\n"
    for (let attempt = 0; attempt < 3; attempt++) {
      const created = yield* fs.writeFileString(file, text, { flag: "wx" }).pipe(
        Effect.as(true),
        Effect.catch((e) =>
          e.reason._tag === "AlreadyExists"
            ? Effect.succeed(false)
            : Effect.fail(new UserError({ message: `cannot lock ${dir}: ${Files.describe(e)}` }))
        )
      )
      if (created) {
        const release = Effect.gen(function*() {
          const now = yield* fs.readFileString(file).pipe(Effect.option)
          if (now._tag === "Some" && parse(now.value)?.pid === process.pid) yield* fs.remove(file).pipe(Effect.ignore)
        }).pipe(Effect.ignore)
        yield* Effect.addFinalizer(() => release)
        return { dir, info, release }
      }
      const state = yield* inspect(dir)
      if (state._tag === "Held") return yield* refused(dir, state)
      if (state._tag === "Stale") {
        const aside = `${file}.stale-${process.pid}`
        yield* fs.rename(file, aside).pipe(Effect.andThen(fs.remove(aside, { force: true })), Effect.ignore)
      }
    }
    return yield* new UserError({ message: `cannot lock ${dir}: another process keeps taking the lock` })
  })
