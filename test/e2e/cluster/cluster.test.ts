/**
 * Studies across processes on loopback with a real PostgreSQL (a private server started here):
 * two workers give the events of a single-machine run; re-submitting runs nothing; a killed
 * submitter leaves the study running and a new one joins it; a worker killed with SIGKILL
 * mid-cell loses nothing (the other takes the cell over and resumes it to identical events);
 * a failing cell is reported once; bad URLs, a runs dir that is not shared and a study file that
 * differs between submitter and worker, a worker without a plugin the study needs are clear errors; a PostgreSQL restart mid-study is
 * ridden out.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { readJson } from "../resilience/harness.ts"
import { comparableEvents, killAll, lastStep, type Proc, run, runDirs, start, stop, tinyStudy, until, worker } from "./harness.ts"
import * as Postgres from "./postgres.ts"

const root = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-cluster-"))
const cache = path.join(root, "cache")
let pg: Postgres.Server
const procs: Array<Proc> = []

const startWorker = async (name: string, runsDir: string, extra: ReadonlyArray<string> = []) => {
  const p = await worker(pg.url, name, runsDir, cache, extra)
  procs.push(p)
  return p
}

/** Runs a study on one machine (the reference) and returns its study folder. */
const reference = async (file: string, name: string) => {
  const out = path.join(root, `ref-${name}`)
  const r = await run(["run", file, "--out", out, "--cache", cache])
  expect(r.code, r.out).toBe(0)
  return path.join(out, name)
}

const expectSameEvents = (studyDir: string, refDir: string) => {
  const names = runDirs(refDir)
  expect(runDirs(studyDir)).toEqual(names)
  for (const n of names) {
    expect(readJson(path.join(studyDir, n, "manifest.json")).status).toBe("finished")
    expect(comparableEvents(path.join(studyDir, n)), n).toEqual(comparableEvents(path.join(refDir, n)))
  }
}

beforeAll(async () => {
  pg = await Postgres.start()
})

afterAll(() => {
  killAll(procs)
  pg?.stop()
})

describe("studies on a cluster (real PostgreSQL, loopback)", { timeout: 900_000 }, () => {
  it("2×2 over two workers equals one machine; re-submitting runs nothing; study status", async () => {
    const file = tinyStudy(path.join(root, "grid"), { name: "grid" })
    const ref = await reference(file, "grid")
    const runs = path.join(root, "runs")
    const a = await startWorker("wa", runs)
    const b = await startWorker("wb", runs)
    const sub = await run(["run", file, "--out", runs, "--cluster", pg.url, "--cache", cache])
    expect(sub.code, sub.out).toBe(0)
    expect(sub.out).toMatch(/4\/4 done, 0 running, 0 failed/)
    expect(sub.out).toContain("final eval loss")
    expectSameEvents(path.join(runs, "grid"), ref)
    // both workers took cells
    expect(a.output()).toMatch(/\[wa cell \d\] cell \d: finished/)
    expect(b.output()).toMatch(/\[wb cell \d\] cell \d: finished/)
    expect(a.output()).toMatch(/\[wa cell \d\] reported: grid-\S+ finished, final eval loss \d+\.\d{4}/)
    expect(readJson(path.join(runs, "grid", "study.json")).variants.map((v: { status: string }) => v.status)).toEqual(["finished", "finished", "finished", "finished"])

    // re-submitting returns the stored results and runs nothing
    const before = a.output().length + b.output().length
    const again = await run(["run", file, "--out", runs, "--cluster", pg.url, "--cache", cache])
    expect(again.code, again.out).toBe(0)
    expect(again.out).toMatch(/4\/4 done/)
    expect(a.output().length + b.output().length).toBe(before)

    const status = await run(["study", "status", file, "--cluster", pg.url, "--out", runs])
    expect(status.code).toBe(0)
    expect(status.out).toMatch(/4\/4 done/)
    expect(status.out.match(/finished on w[ab]/g)?.length).toBe(4)
    expect(status.out).not.toContain("attempt 2")
    await stop(a)
    await stop(b)
  })

  it("killing the submitter leaves the study running; kill -9 of a worker mid-cell: the other resumes it, events equal", async () => {
    const file = tinyStudy(path.join(root, "kill"), { name: "kill", steps: 120, checkpointEvery: 10, lrs: [0.01, 0.02], seeds: [1] })
    const ref = await reference(file, "kill")
    const runs = path.join(root, "runs")
    const a = await startWorker("ka", runs)
    const b = await startWorker("kb", runs)
    const submitter = start(["run", file, "--out", runs, "--cluster", pg.url, "--cache", cache])
    procs.push(submitter)
    await submitter.waitFor(/running \(cell/)
    submitter.child.kill("SIGKILL")
    await submitter.exited

    // the cell worker ka runs: kill ka with SIGKILL once that cell has checkpoints behind it
    await a.waitFor(/\[ka cell (\d)\] cell \d: (\S+)/)
    const runId = /\[ka cell \d\] cell \d: (\S+)/.exec(a.output())![1]!
    const dir = path.join(runs, "kill", runId)
    await until(() => lastStep(dir) >= 30 || a.child.exitCode !== null, `${runId} to reach step 30`)
    a.child.kill("SIGKILL")
    await a.exited
    expect(readJson(path.join(dir, "manifest.json")).status).not.toBe("finished")

    // kb finishes its own cell, then takes over the killed one when its lease expires
    await b.waitFor(new RegExp(`\\[kb cell \\d\\] cell \\d: ${runId.replace(/[.=]/g, "\\$&")}`))
    await until(() => runDirs(path.join(runs, "kill")).every((n) => readJson(path.join(runs, "kill", n, "manifest.json")).status === "finished") && runDirs(path.join(runs, "kill")).length === 2, "both cells to finish")
    // a new submitter joins the running (or finished) study and returns when it is complete
    const join = await run(["run", file, "--out", runs, "--cluster", pg.url, "--cache", cache])
    expect(join.code, join.out).toBe(0)
    expect(join.out).toMatch(/2\/2 done, 0 running, 0 failed/)
    expectSameEvents(path.join(runs, "kill"), ref)
    expect(fs.readFileSync(path.join(dir, "events.jsonl"), "utf8")).toMatch(/"resumedFrom":\d+/)
    const status = await run(["study", "status", file, "--cluster", pg.url, "--out", runs])
    expect(status.out).toMatch(new RegExp(`${runId.replace(/[.=]/g, "\\$&")}  finished on kb \\(attempt 2\\)`))
    await stop(b)
  })

  it("PostgreSQL restarted mid-study: workers and submitter reconnect and the study completes", async () => {
    const file = tinyStudy(path.join(root, "restart"), { name: "restart", steps: 60, checkpointEvery: 10, lrs: [0.01, 0.02], seeds: [1] })
    const runs = path.join(root, "runs")
    const a = await startWorker("ra", runs)
    const b = await startWorker("rb", runs)
    const submitter = start(["run", file, "--out", runs, "--cluster", pg.url, "--cache", cache])
    procs.push(submitter)
    await submitter.waitFor(/running \(cell/)
    pg.halt()
    // the server stays down until a worker has noticed it is gone
    await Promise.race([a.waitFor(/ECONNREFUSED|Failed to connect|terminating connection|Connection terminated/i), b.waitFor(/ECONNREFUSED|Failed to connect|terminating connection|Connection terminated/i)])
    pg.restart()
    const { code } = await submitter.exited
    expect(code, submitter.output()).toBe(0)
    expect(submitter.output()).toMatch(/2\/2 done, 0 running, 0 failed/)
    expect(runDirs(path.join(runs, "restart")).length).toBe(2)
    await stop(a)
    await stop(b)
  })

  it("a failing cell is reported once; a runs dir that is not shared, a study file that differs, a missing plugin and bad URLs are clear errors", async () => {
    const runs = path.join(root, "runs")
    // non-finite loss: failed once, with its error, never retried
    const nan = tinyStudy(path.join(root, "nan"), { name: "nan", optimizer: "optim/sgd", lrs: [0.01, 1e6], seeds: [1] })
    const w = await startWorker("fa", runs)
    const failed = await run(["run", nan, "--out", runs, "--cluster", pg.url, "--cache", cache])
    expect(failed.code, failed.out).toBe(1)
    expect(failed.out).toMatch(/1\/2 done, 0 running, 1 failed/)
    expect(failed.out).toMatch(/cell 1 \(nan-lr=1000000-\w+\) failed on fa: .*run failed at step \d+/)
    const nanStatus = await run(["study", "status", nan, "--cluster", pg.url, "--out", runs])
    expect(nanStatus.out).toMatch(/nan-lr=1000000-\w+  failed on fa from \S+ for [\d.]+ s: cell 1: run failed at step \d+/)
    expect(nanStatus.out).not.toContain("attempt 2")
    await stop(w)

    // a worker whose runs dir is not the submitter's: every cell fails with the reason
    const grid = tinyStudy(path.join(root, "other"), { name: "other", lrs: [0.01], seeds: [1] })
    const elsewhere = await startWorker("fb", path.join(root, "elsewhere"))
    const unshared = await run(["run", grid, "--out", runs, "--cluster", pg.url, "--cache", cache])
    expect(unshared.code, unshared.out).toBe(1)
    expect(unshared.out).toContain("runs dir not shared: worker fb writes to")
    expect(fs.existsSync(path.join(root, "elsewhere", "other"))).toBe(false)
    await stop(elsewhere)

    // the study file changes between submission and the worker: refused with both hashes
    const changing = tinyStudy(path.join(root, "changing"), { name: "changing", lrs: [0.01], seeds: [1] })
    const submitter = start(["run", changing, "--out", runs, "--cluster", pg.url, "--cache", cache])
    procs.push(submitter)
    await submitter.waitFor(/0\/1 done, 0 running/)
    fs.appendFileSync(changing, "// edited after submission\n")
    const late = await startWorker("fc", runs)
    const { code } = await submitter.exited
    expect(code, submitter.output()).toBe(1)
    expect(submitter.output()).toMatch(/study file \S+ on worker fc differs from the submitted one \(sha256 \w+ here, \w+ submitted\)/)
    await stop(late)

    // the submitter's rekindle.config.ts registers a plugin the worker (another working directory) lacks
    const project = path.join(root, "plugin")
    const extra = tinyStudy(project, { name: "extra", lrs: [0.01], seeds: [1], optimizer: "extra/sgd" })
    const repo = path.resolve(import.meta.dirname, "../../..")
    fs.writeFileSync(path.join(project, "rekindle.config.ts"), [
      `import { Plugin } from ${JSON.stringify(path.join(repo, "packages/core/src/index.ts"))}`,
      `import { optim } from ${JSON.stringify(path.join(repo, "plugins/optim/src/index.ts"))}`,
      `export default { plugins: [Plugin.make({ meta: { name: "@test/extra", version: "1.0.0", namespace: "extra", core: "^0.1.0" }, optimizers: { sgd: optim.optimizers.sgd } })] }`
    ].join("\n") + "\n")
    const bare = await startWorker("fd", runs)
    const noPlugin = await run(["run", extra, "--out", runs, "--cluster", pg.url, "--cache", cache], project)
    expect(noPlugin.code, noPlugin.out).toBe(1)
    expect(noPlugin.out).toMatch(/cell 0 \(extra-lr=0\.01-\w+\) failed on fd: [^]*extra\/sgd/)
    await stop(bare)

    // an unreachable database and a URL that is not PostgreSQL's: exit 2, nothing written
    const nowhere = path.join(root, "nowhere")
    const down = await run(["run", grid, "--out", nowhere, "--cluster", `postgres://postgres@127.0.0.1:${await Postgres.freePort()}/postgres`])
    expect(down.code).toBe(2)
    expect(down.out).toMatch(/--cluster: cannot use the database at postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres: .*ECONNREFUSED/)
    expect(fs.existsSync(nowhere)).toBe(false)
    const notPg = await run(["worker", "--db", "mysql://u:secret@h/db"])
    expect(notPg.code).toBe(2)
    expect(notPg.out).toContain("--db: expected a PostgreSQL URL")
    expect(notPg.out).not.toContain("secret")
  })
})
