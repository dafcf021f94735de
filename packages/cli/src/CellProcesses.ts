/**
 * The child processes a worker runs cells in: each is a `rekindle study serve-cells`, which
 * preloads the engine (TF.js, the pipeline compiler, the trainer) as soon as it starts, then
 * reads `study run-cell` argument lists from its stdin, one per line, runs them one at a time
 * exactly as `rekindle study run-cell --result FILE` would, and reports each exit code on stderr;
 * the worker reads the outcome from the result file. Training blocks the child's event loop,
 * never the worker's (whose leases must be refreshed). A worker keeps one child per slot started
 * before any cell arrives, and a child stays alive between cells of the same study, so the engine
 * is initialised once per slot, not once per cell and not while a cell waits. A child serves one
 * study file version and thread count (`key`, taken from its first cell); it dies with its worker
 * (its stdin closes), and is retired (and replaced) after a failed cell.
 */
import { Cause, Deferred, Effect, Queue } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as readline from "node:readline"
import { fileURLToPath } from "node:url"
import * as CellReport from "./CellReport.ts"

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
  /** The study version it serves (undefined: none yet, it takes the first that comes). */
  key: string | undefined
  /** Done once it has preloaded the engine (or closed). */
  readonly ready: Deferred.Deferred<void>
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
 * Why a cell's process failed, in a few lines, when it wrote no result file: the child's stderr
 * holds the run's console progress too, so this is the cell's own verdict, from its last problem
 * line on (a user error keeps its field paths), or what killed it.
 */
const failure = (exit: Ended): string => {
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
 * How a cell ended, decided from its result file first (the cell's own verdict, as the CLI printed
 * it, field paths kept) and from the process only when it wrote none (killed, or bad arguments).
 */
export const verdict = (
  exit: Ended & { readonly report: CellReport.CellReport | undefined }
): { readonly ok: true; readonly report: CellReport.CellReport } | { readonly ok: false; readonly why: string } => {
  const report = exit.report
  if (exit.code === 0 && report !== undefined && report.status !== "failed") return { ok: true, report }
  if (report?.error !== undefined) return { ok: false, why: report.error }
  return { ok: false, why: failure(exit) }
}

/** The line a child writes on stderr once its heavy modules are loaded (it then reads requests). */
export const readyMarker = "\u001erekindle-cells-ready"

/** The pool's settings. */
export interface PoolOptions {
  /** Children kept started and preloaded, ready for a first cell (a worker's slots; default none). */
  readonly warm?: number
  /** Echo the children's output, each line prefixed (default); without it, it is only kept (the last lines, for `failure`). */
  readonly echo?: boolean
}

/**
 * A pool of serve-cells children. `warmUp` starts `warm` children that preload the engine before
 * any cell arrives; a child retired (another study version, a failed cell) is replaced by a
 * fresh one that preloads in the background.
 */
export const make = (options: PoolOptions = {}) => {
  const echo = options.echo ?? true
  const warm = options.warm ?? 0
  const idle: Array<Child> = []
  /** Children running a cell now. */
  let busy = 0
  let requests = 0

  const spawnChild = (key: string | undefined): Child => {
    const proc = spawn(process.execPath, [bin, "study", "serve-cells"], {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, [exitWithParentEnv]: "1" }
    })
    const child: Child = { proc, key, current: undefined, closed: false, ready: Deferred.makeUnsafe<void>() }
    const readied = () => void Deferred.doneUnsafe(child.ready, Effect.void)
    proc.stdout!.on("data", lineSplitter((l) => {
      if (echo) process.stdout.write(`${child.current?.prefix ?? ""}${l}\n`)
    }))
    proc.stderr!.on("data", lineSplitter((l) => {
      const cur = child.current
      if (l.startsWith(readyMarker)) return readied()
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
      readied()
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

  /** Keeps `warm` children in all (busy or idle): spawns fresh ones, preloading in the background, for those retired. */
  const refill = () => {
    while (idle.length + busy < warm) idle.push(spawnChild(undefined))
  }

  /** Starts the warm children and waits until each has loaded the engine. */
  const warmUp = Effect.suspend(() => {
    refill()
    return Effect.forEach([...idle], (c) => Deferred.await(c.ready), { discard: true })
  })

  /**
   * Runs `study run-cell <args> --result FILE` in a child serving `key` (a warm child adopts the
   * key); interrupting it stops the child (which checkpoints). Returns how the child ended and the
   * result file it wrote (undefined when it wrote none, e.g. killed, or bad arguments).
   */
  const run = (key: string, args: ReadonlyArray<string>, prefix: string): Effect.Effect<Ended & { readonly report: CellReport.CellReport | undefined }> =>
    Effect.gen(function*() {
      const resultFile = path.join(os.tmpdir(), `rekindle-cell-${process.pid}-${++requests}.json`)
      const removeResult = Effect.sync(() => fs.rmSync(resultFile, { force: true }))
      // children of another study version are of no further use
      const stale = idle.filter((c) => c.key !== undefined && c.key !== key)
      for (const c of stale) idle.splice(idle.indexOf(c), 1)
      yield* Effect.forEach(stale, retire, { discard: true })
      let i = idle.findIndex((c) => c.key === key)
      if (i < 0) i = idle.findIndex((c) => c.key === undefined)
      const child = i >= 0 ? idle.splice(i, 1)[0]! : spawnChild(key)
      child.key = key
      busy++
      refill()
      const ended = yield* Effect.callback<Ended>((resume) => {
        child.current = { prefix, err: "", done: (e) => resume(Effect.succeed(e)) }
        child.proc.stdin!.write(JSON.stringify([...args, "--result", resultFile]) + "\n")
        return retire(child)
      }).pipe(Effect.onInterrupt(() => Effect.andThen(Effect.sync(() => busy--), removeResult)))
      const report = yield* Effect.sync(() => (fs.existsSync(resultFile) ? CellReport.parse(fs.readFileSync(resultFile, "utf8")) : undefined))
      yield* removeResult
      busy--
      if (ended.code === 0 && !child.closed) idle.unshift(child)
      else {
        yield* retire(child)
        refill()
      }
      return { ...ended, report }
    })

  /** Stops every idle child. */
  const shutdown = Effect.suspend(() => Effect.forEach(idle.splice(0), retire, { discard: true }))

  return { warmUp, run, shutdown }
}

/** In a child started by a worker: dies at once when the worker does (its stdin pipe closes). */
export const exitWithParent = Effect.sync(() => {
  if (process.env[exitWithParentEnv] !== "1") return
  const die = () => process.kill(process.pid, "SIGKILL")
  process.stdin.on("end", die)
  process.stdin.on("close", die)
  process.stdin.resume()
})

/**
 * The requests on stdin: an effect that takes the next line, `undefined` once stdin has closed
 * (lines read before the close are taken first).
 */
export const requests = Effect.gen(function*() {
  const lines = yield* Queue.unbounded<string, Cause.Done>()
  const rl = readline.createInterface({ input: process.stdin })
  rl.on("line", (l) => void Queue.offerUnsafe(lines, l))
  rl.on("close", () => void Queue.endUnsafe(lines))
  return Queue.take(lines).pipe(Effect.catchTag("Done", () => Effect.succeed(undefined)))
})
