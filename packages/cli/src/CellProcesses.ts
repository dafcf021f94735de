/**
 * The child processes a worker runs cells in: each is a `rekindle study serve-cells`, which reads
 * `study run-cell` argument lists from its stdin, one per line, runs them one at a time exactly
 * as `rekindle study run-cell` would, and reports each exit code on stderr. Training blocks the
 * child's event loop, never the worker's (whose leases must be refreshed), and a child stays
 * alive between cells of the same study so the engine is initialised once per slot, not once
 * per cell. A child serves one study file version and thread count (`key`); it dies with its
 * worker (its stdin closes), and is retired after a failed cell.
 */
import { Effect } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import * as readline from "node:readline"
import { fileURLToPath } from "node:url"

/** The rekindle bin. */
const bin = fileURLToPath(new URL("../bin/rekindle.mjs", import.meta.url))

/** Set in a child's environment: it must die with its parent. */
const exitWithParentEnv = "REKINDLE_EXIT_WITH_PARENT"

/** The line a child writes on stderr after each request: the marker and the exit code. */
export const doneMarker = "\u001erekindle-cell-done"

/** How a request ended: the exit code, or the signal that killed the child. */
export interface Ended {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  /** The last lines the cell wrote on stderr. */
  readonly err: string
}

interface Child {
  readonly proc: ChildProcess
  readonly key: string
  /** Set while a request runs. */
  current: { readonly prefix: string; err: string; readonly done: (e: Ended) => void } | undefined
  closed: boolean
}

const lineSplitter = (onLine: (line: string) => void) => {
  let rest = ""
  return (chunk: unknown) => {
    const text = rest + String(chunk)
    const lines = text.split("\n")
    rest = lines.pop()!
    for (const l of lines) onLine(l)
  }
}

/**
 * Why a cell's process failed, in a few lines: the child's stderr holds the run's console progress
 * too, so this is the cell's own verdict, from its last problem line on (a user error keeps its
 * field paths), or what killed it.
 */
export const failure = (exit: Ended): string => {
  const lines = exit.err.trim().split("\n").filter((l) => l.trim() !== "")
  const problem = (l: string) => /error|fail|warning|refus/i.test(l)
  if (exit.signal !== null) {
    const tail = (lines.some(problem) ? lines.filter(problem) : lines).slice(-8).join("\n")
    return `the cell's process was killed by ${exit.signal}${tail !== "" ? `:\n${tail}` : ""}`
  }
  const last = lines.findLastIndex(problem)
  const why = (last >= 0 ? lines.slice(last, last + 8) : lines.slice(-8)).join("\n")
  return why !== "" ? why : `exit code ${exit.code}`
}

/**
 * A pool of serve-cells children. With `echo` (the default) their output goes to this process's
 * stdout and stderr, each line prefixed; without it, it is only kept (the last lines, for `failure`).
 */
export const make = (options: { readonly echo?: boolean } = {}) => {
  const echo = options.echo ?? true
  const idle: Array<Child> = []

  const spawnChild = (key: string): Child => {
    const proc = spawn(process.execPath, [bin, "study", "serve-cells"], {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, [exitWithParentEnv]: "1" }
    })
    const child: Child = { proc, key, current: undefined, closed: false }
    proc.stdout!.on("data", lineSplitter((l) => {
      if (echo) process.stdout.write(`${child.current?.prefix ?? ""}${l}\n`)
    }))
    proc.stderr!.on("data", lineSplitter((l) => {
      const cur = child.current
      if (l.startsWith(doneMarker)) {
        child.current = undefined
        cur?.done({ code: Number(l.slice(doneMarker.length).trim()), signal: null, err: cur.err })
        return
      }
      if (cur !== undefined) cur.err = (cur.err + l + "\n").slice(-4000)
      if (echo) process.stderr.write(`${cur?.prefix ?? ""}${l}\n`)
    }))
    const closed = (code: number | null, signal: NodeJS.Signals | null, why?: string) => {
      child.closed = true
      const i = idle.indexOf(child)
      if (i >= 0) idle.splice(i, 1)
      const cur = child.current
      child.current = undefined
      cur?.done({ code, signal, err: cur.err + (why ?? "") })
    }
    proc.on("error", (e) => closed(null, null, e.message))
    proc.on("close", (code, signal) => closed(code, signal))
    return child
  }

  const retire = (child: Child) =>
    Effect.callback<void>((resume) => {
      if (child.closed) return resume(Effect.void)
      child.proc.once("close", () => resume(Effect.void))
      child.proc.kill("SIGTERM")
    })

  /** Runs `study run-cell <args>` in a child serving `key`; interrupting it stops the child (which checkpoints). */
  const run = (key: string, args: ReadonlyArray<string>, prefix: string): Effect.Effect<Ended> =>
    Effect.gen(function*() {
      // children of another study version are of no further use
      for (const c of idle.filter((c) => c.key !== key)) {
        idle.splice(idle.indexOf(c), 1)
        yield* retire(c)
      }
      const i = idle.findIndex((c) => c.key === key)
      const child = i >= 0 ? idle.splice(i, 1)[0]! : spawnChild(key)
      const ended = yield* Effect.callback<Ended>((resume) => {
        child.current = { prefix, err: "", done: (e) => resume(Effect.succeed(e)) }
        child.proc.stdin!.write(JSON.stringify(args) + "\n")
        return retire(child)
      })
      if (ended.code === 0 && !child.closed) idle.push(child)
      else yield* retire(child)
      return ended
    })

  /** Stops every idle child. */
  const shutdown = Effect.suspend(() => Effect.forEach(idle.splice(0), retire, { discard: true }))

  return { run, shutdown }
}

/** In a child started by a worker: dies at once when the worker does (its stdin pipe closes). */
export const exitWithParent = Effect.sync(() => {
  if (process.env[exitWithParentEnv] !== "1") return
  const die = () => process.kill(process.pid, "SIGKILL")
  process.stdin.on("end", die)
  process.stdin.on("close", die)
  process.stdin.resume()
})

/** The requests on stdin, one line at a time (`undefined`: stdin closed). */
export const requests = () => {
  const lines: Array<string> = []
  let waiting: ((line: string | undefined) => void) | undefined
  let closed = false
  const rl = readline.createInterface({ input: process.stdin })
  rl.on("line", (l) => {
    if (waiting !== undefined) {
      const w = waiting
      waiting = undefined
      w(l)
    } else lines.push(l)
  })
  rl.on("close", () => {
    closed = true
    waiting?.(undefined)
  })
  return Effect.callback<string | undefined>((resume) => {
    if (lines.length > 0) return resume(Effect.succeed(lines.shift()))
    if (closed) return resume(Effect.succeed(undefined))
    waiting = (l) => resume(Effect.succeed(l))
  })
}
