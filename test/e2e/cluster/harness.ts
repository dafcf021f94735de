/**
 * Fixtures for the study-cell and cluster tests: a tiny study file (a plain study value over the
 * tiny pipeline of the resilience tests, no imports), `rekindle` as child processes (a worker that
 * runs until stopped or killed, a submitter), and events compared without timings.
 */
import { Event } from "@rekindle/core"
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { bin, readEvents, tinyProject } from "../resilience/harness.ts"

/** Options of the tiny study. */
export interface StudyOptions {
  readonly name: string
  readonly steps?: number
  readonly checkpointEvery?: number
  readonly lrs?: ReadonlyArray<number>
  readonly seeds?: ReadonlyArray<number>
  readonly optimizer?: string
  readonly backend?: { readonly name: string; readonly threads?: number }
}

/** Writes a tiny project and a study file over it (lrs × seeds); returns the study file. */
export const tinyStudy = (dir: string, o: StudyOptions): string => {
  const { pipeline } = tinyProject(dir, { name: o.name, steps: o.steps ?? 24, checkpointEvery: o.checkpointEvery ?? 8, recycling: false, ...(o.backend !== undefined ? { backend: o.backend } : {}) })
  const base = { ...pipeline, optimizer: { use: o.optimizer ?? "optim/adam", lr: 0.01 } }
  const study = { _tag: "Study", name: o.name, base, grid: { "optimizer.lr": o.lrs ?? [0.01, 0.02] }, seeds: o.seeds ?? [1, 2] }
  const file = path.join(dir, `${o.name}.study.ts`)
  fs.writeFileSync(file, `// a tiny study for tests\nexport default ${JSON.stringify(study, null, 2)}\n`)
  return file
}

/** A running `rekindle` child process. */
export interface Proc {
  readonly child: ChildProcess
  /** Everything it printed so far (stdout and stderr). */
  readonly output: () => string
  /** Resolves when it exits: the exit code, or null when killed by a signal. */
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>
  /** Resolves once the output matches. */
  readonly waitFor: (re: RegExp, timeoutMs?: number) => Promise<void>
}

/**
 * Starts `rekindle <args>`; with `host`, as if on another machine of that name (its own UTS
 * namespace, `unshare --uts`: needs root; the pid is rekindle's own, so a signal reaches it).
 */
export const start = (args: ReadonlyArray<string>, cwd?: string, host?: string): Proc => {
  const command = host === undefined
    ? [process.execPath, bin, ...args]
    : ["unshare", "--uts", "sh", "-c", `hostname ${host} && exec "$0" "$@"`, process.execPath, bin, ...args]
  const child = spawn(command[0]!, command.slice(1), { stdio: ["ignore", "pipe", "pipe"], ...(cwd !== undefined ? { cwd } : {}) })
  let text = ""
  const waiters: Array<{ re: RegExp; done: () => void }> = []
  const onData = (d: unknown) => {
    text += String(d)
    for (const w of [...waiters]) {
      if (w.re.test(text)) {
        waiters.splice(waiters.indexOf(w), 1)
        w.done()
      }
    }
  }
  child.stdout!.on("data", onData)
  child.stderr!.on("data", onData)
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal })))
  const waitFor = (re: RegExp, timeoutMs = 240_000) =>
    new Promise<void>((resolve, reject) => {
      if (re.test(text)) return resolve()
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re} in:\n${text}`)), timeoutMs)
      void exited.then(() => setTimeout(() => reject(new Error(`exited before ${re}:\n${text}`)), 50))
      waiters.push({ re, done: () => (clearTimeout(timer), resolve()) })
    })
  return { child, output: () => text, exited, waitFor }
}

/** Runs `rekindle <args>` to the end. */
export const run = async (args: ReadonlyArray<string>, cwd?: string) => {
  const p = start(args, cwd)
  const { code } = await p.exited
  return { code, out: p.output() }
}

/** Starts a worker (on another host name with `host`, see `start`) and waits until it has joined the cluster. */
export const worker = async (db: string, name: string, runsDir: string, cache: string, extra: ReadonlyArray<string> = [], host?: string) => {
  const p = start(["worker", "--db", db, "--name", name, "--host", "127.0.0.1", "--runs-dir", runsDir, "--cache", cache, ...extra], undefined, host)
  await p.waitFor(new RegExp(`worker ${name}: ready`))
  return p
}

/** Stops a process (SIGTERM, then waits). */
export const stop = async (p: Proc) => {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGTERM")
  await p.exited
}

/** Kills (SIGKILL) every process still running: a test file's clean-up. */
export const killAll = (procs: ReadonlyArray<Proc>) => {
  for (const p of procs) {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL")
  }
}

/** A run folder's events without timings and resume markers. */
export const comparableEvents = (dir: string): Array<Record<string, unknown>> =>
  readEvents(path.join(dir, "events.jsonl"))
    .filter((e) => !(e._tag === "RunStarted" && e.resumedFrom !== undefined))
    .map(Event.stripTimings)

/** The run folders of a study folder, by name. */
export const runDirs = (root: string): Array<string> =>
  fs.existsSync(root)
    ? fs.readdirSync(root).filter((n) => fs.existsSync(path.join(root, n, "manifest.json"))).sort()
    : []

/** The last TrainStep written in a run folder (0 when none yet). */
export const lastStep = (dir: string): number => {
  try {
    const m = [...fs.readFileSync(path.join(dir, "events.jsonl"), "utf8").matchAll(/"_tag":"TrainStep","step":(\d+)/g)]
    return m.length === 0 ? 0 : Number(m.at(-1)![1])
  } catch {
    return 0
  }
}

/** Polls until `f` holds (the tests' only waiting: on real progress, never a fixed sleep). */
export const until = async (f: () => boolean, what: string, timeoutMs = 240_000) => {
  const t0 = Date.now()
  while (!f()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}
