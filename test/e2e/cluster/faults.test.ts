/**
 * Worker faults on loopback with a real PostgreSQL (one private server for the file) and real
 * processes, each against the same 2-cell study run on one machine: SIGTERM to a worker mid-cell
 * stops its child at a checkpoint and releases the queue item at once (another worker resumes it
 * to identical events); `--slots 2` runs two cells at once; a worker killed with SIGKILL on
 * another host (its own UTS namespace, a real host name) leaves its `run.lock`, which a plain
 * `run-cell` here refuses and a worker holding the cell's queue lease takes over.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { readJson } from "../resilience/harness.ts"
import { comparableEvents, killAll, lastStep, type Proc, run, runDirs, start, stop, tinyStudy, until, worker } from "./harness.ts"
import * as Postgres from "./postgres.ts"

const root = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-cluster-faults-"))
const cache = path.join(root, "cache")
const file = tinyStudy(path.join(root, "project"), { name: "faults", steps: 120, checkpointEvery: 10, lrs: [0.01, 0.02], seeds: [1] })
let pg: Postgres.Server
let ref: string
const procs: Array<Proc> = []

const startWorker = async (name: string, runsDir: string, extra: ReadonlyArray<string> = [], host?: string) => {
  const p = await worker(pg.url, name, runsDir, cache, extra, host)
  procs.push(p)
  return p
}
const submit = (runsDir: string) => {
  const p = start(["run", file, "--out", runsDir, "--cluster", pg.url, "--cache", cache])
  procs.push(p)
  return p
}
const escape = (s: string) => s.replace(/[.=]/g, "\\$&")

/** The study folder holds both cells, finished, with the events of the one-machine run. */
const expectSameEvents = (runsDir: string) => {
  const studyDir = path.join(runsDir, "faults")
  const names = runDirs(ref)
  expect(runDirs(studyDir)).toEqual(names)
  for (const n of names) {
    expect(readJson(path.join(studyDir, n, "manifest.json")).status).toBe("finished")
    expect(comparableEvents(path.join(studyDir, n)), n).toEqual(comparableEvents(path.join(ref, n)))
  }
}

/** The cell a worker started first: its run id and folder, once its output names it. */
const cellOf = async (w: Proc, name: string, runsDir: string) => {
  const re = new RegExp(`\\[${name} cell \\d\\] cell \\d: (\\S+)`)
  await w.waitFor(re)
  const runId = re.exec(w.output())![1]!
  return { runId, dir: path.join(runsDir, "faults", runId) }
}

beforeAll(async () => {
  pg = await Postgres.start()
  const out = path.join(root, "ref")
  const r = await run(["run", file, "--out", out, "--cache", cache])
  expect(r.code, r.out).toBe(0)
  ref = path.join(out, "faults")
}, 600_000) // the one-machine reference run, beside other test files on a 2-core machine

afterAll(() => {
  killAll(procs)
  pg?.stop()
})

describe("worker faults (real PostgreSQL, real processes)", { timeout: 600_000 }, () => {
  it("SIGTERM mid-cell: the child stops at a checkpoint, the item is released at once, another worker resumes it to identical events", async () => {
    const runs = path.join(root, "runs-term")
    const a = await startWorker("ta", runs)
    const submitter = submit(runs)
    const { runId, dir } = await cellOf(a, "ta", runs)
    await until(() => lastStep(dir) >= 30 || a.child.exitCode !== null, `${runId} to reach step 30`)
    a.child.kill("SIGTERM")
    await a.exited
    // stopped cleanly: the lock is released, a checkpoint is there, the run is not finished
    expect(fs.existsSync(path.join(dir, "run.lock"))).toBe(false)
    expect(readJson(path.join(dir, "manifest.json")).status).not.toBe("finished")
    expect(fs.readdirSync(path.join(dir, "checkpoints")).length).toBeGreaterThan(0)
    // the queue item is free again now, not when its lease would have expired
    const items = pg.query(`SELECT state, coalesce(acquired_by::text, 'free') FROM effect_queue WHERE element::text LIKE '%${runId}%'`)
    expect(items).toEqual(["pending|free"])
    expect(pg.query(`SELECT status, coalesce(worker, '-') FROM rekindle_cells WHERE run_id = '${runId}'`)).toEqual(["queued|-"])

    const b = await startWorker("tb", runs)
    const { code } = await submitter.exited
    expect(code, submitter.output()).toBe(0)
    expect(submitter.output()).toMatch(/2\/2 done, 0 running, 0 failed/)
    expect(b.output()).toMatch(new RegExp(`\\[tb cell \\d\\] cell \\d: ${escape(runId)}`))
    expectSameEvents(runs)
    expect(fs.readFileSync(path.join(dir, "events.jsonl"), "utf8")).toMatch(/"resumedFrom":\d+/)
    await stop(b)
  })

  it("--slots 2: one worker runs both cells at once; events equal the one-machine run", async () => {
    const runs = path.join(root, "runs-slots")
    const w = await startWorker("s2", runs, ["--slots", "2"])
    expect(w.output()).toContain("2 slots")
    const submitter = submit(runs)
    // both cells are under way before either is reported done
    await w.waitFor(/\[s2 cell \d\] reported:/)
    const firstReport = w.output().search(/\[s2 cell \d\] reported:/)
    const before = w.output().slice(0, firstReport)
    expect(before).toMatch(/\[s2 cell 0\] cell 0: /)
    expect(before).toMatch(/\[s2 cell 1\] cell 1: /)
    const { code } = await submitter.exited
    expect(code, submitter.output()).toBe(0)
    expectSameEvents(runs)
    await stop(w)
  })

  it("a worker on another host killed mid-cell: its run.lock is refused without a lease and taken over with one", async () => {
    const runs = path.join(root, "runs-host")
    const far = await startWorker("hf", runs, [], "rk-far-host")
    const submitter = submit(runs)
    const { runId, dir } = await cellOf(far, "hf", runs)
    await until(() => lastStep(dir) >= 30 || far.child.exitCode !== null, `${runId} to reach step 30`)
    far.child.kill("SIGKILL")
    await far.exited
    const lock = JSON.parse(fs.readFileSync(path.join(dir, "run.lock"), "utf8")) as { host: string }
    expect(lock.host).toBe("rk-far-host")

    // here, without the cell's lease: the lock of the other host counts as held
    const cells = (await run(["study", "cells", file, "--json"])).out.trim().split("\n").map((l) => JSON.parse(l) as { index: number; runId: string })
    const index = cells.find((c) => c.runId === runId)!.index
    const plain = await run(["study", "run-cell", file, "--index", String(index), "--runs-dir", runs, "--cache", cache])
    expect(plain.code, plain.out).toBe(2)
    expect(plain.out).toContain("rk-far-host")
    expect(lastStep(dir)).toBeLessThan(120)

    // a worker here takes the item once its lease has expired, takes the lock over and finishes
    const near = await startWorker("hn", runs)
    const { code } = await submitter.exited
    expect(code, submitter.output()).toBe(0)
    expect(near.output()).toMatch(new RegExp(`\\[hn cell \\d\\] cell \\d: ${escape(runId)}`))
    expectSameEvents(runs)
    expect(fs.existsSync(path.join(dir, "run.lock"))).toBe(false)
    expect(fs.readFileSync(path.join(dir, "events.jsonl"), "utf8")).toMatch(/"resumedFrom":\d+/)
    const status = await run(["study", "status", file, "--cluster", pg.url, "--out", runs])
    expect(status.out).toMatch(new RegExp(`${escape(runId)}  finished on hn \\(attempt 2\\)`))
    await stop(near)
  })
})
