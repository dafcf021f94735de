/**
 * Study cells through the real bin, as a SLURM array or a Kubernetes Indexed Job uses them:
 * `study cells` lists a stable order; `study run-cell` is idempotent (a second run does nothing, a
 * killed one resumes and ends with the events of an uninterrupted run), refuses an unexpected
 * pipeline hash and a lock held on another host (unless told it holds the lease); `--result`
 * writes the outcome as JSON (user errors with their text as printed); `study collect`
 * writes study.json and report.html from whatever run folders exist.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { readJson } from "../resilience/harness.ts"
import { comparableEvents, lastStep, run, start, tinyStudy, until } from "./harness.ts"

const root = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-cells-"))
const cache = path.join(root, "cache")
const file = tinyStudy(path.join(root, "project"), { name: "cells", steps: 60, checkpointEvery: 5 })

describe("study cells (rekindle bin)", { timeout: 600_000 }, () => {
  it("lists the cells in a stable order; run-cell twice runs once; kill and rerun resumes to identical events; collect", async () => {
    const listed = await run(["study", "cells", file, "--json"])
    expect(listed.code).toBe(0)
    const cells = listed.out.trim().split("\n").map((l) => JSON.parse(l) as { index: number; runId: string; pipelineHash: string; name: string; seed: number })
    expect(cells.map((c) => c.index)).toEqual([0, 1, 2, 3])
    expect(cells.map((c) => `${c.name}/${c.seed}`)).toEqual(["cells-lr=0.01/1", "cells-lr=0.01/2", "cells-lr=0.02/1", "cells-lr=0.02/2"])
    for (const c of cells) expect(c.runId).toBe(`${c.name}-${c.pipelineHash}`)
    expect((await run(["study", "cells", file, "--json"])).out).toBe(listed.out)

    // uninterrupted reference of cell 1
    const refRuns = path.join(root, "ref")
    const first = await run(["study", "run-cell", file, "--index", "1", "--runs-dir", refRuns, "--cache", cache, "--expect-hash", cells[1]!.pipelineHash])
    expect(first.code).toBe(0)
    const refDir = path.join(refRuns, "cells", cells[1]!.runId)
    expect(readJson(path.join(refDir, "manifest.json")).status).toBe("finished")
    const bytes = fs.readFileSync(path.join(refDir, "events.jsonl"))
    // a second run-cell does nothing; --result says so, with the final eval loss
    const result = path.join(root, "result.json")
    const second = await run(["study", "run-cell", file, "--index", "1", "--runs-dir", refRuns, "--cache", cache, "--result", result])
    expect(second.code).toBe(0)
    expect(second.out).toContain("already finished")
    const skipped = readJson(result)
    expect(skipped).toMatchObject({ index: 1, runId: cells[1]!.runId, status: "skipped", dir: refDir })
    const finished = fs.readFileSync(path.join(refDir, "events.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l)).find((e) => e._tag === "RunFinished")
    expect(Number.isFinite(finished.finalEvalLoss)).toBe(true)
    expect(skipped.finalEvalLoss).toBe(finished.finalEvalLoss)
    expect(skipped.timings.end).toBeGreaterThanOrEqual(skipped.timings.start)
    expect(fs.readFileSync(path.join(refDir, "events.jsonl")).equals(bytes)).toBe(true)

    // a pipeline hash other than the expected one is refused (exit 2), nothing written
    const wrong = await run(["study", "run-cell", file, "--index", "0", "--runs-dir", refRuns, "--expect-hash", "deadbeef"])
    expect(wrong.code).toBe(2)
    expect(wrong.out).toContain("deadbeef was expected")
    expect(fs.existsSync(path.join(refRuns, "cells", cells[0]!.runId))).toBe(false)
    const outside = await run(["study", "run-cell", file, "--index", "4", "--runs-dir", refRuns, "--result", result])
    expect(outside.code).toBe(2)
    expect(outside.out).toContain("--index: expected an integer from 0 to 3")
    expect(readJson(result)).toMatchObject({ index: 4, status: "failed", kind: "user", error: "error: --index: expected an integer from 0 to 3 (the study has 4 cells), got 4" })

    // kill -9 mid-cell on another host (its own UTS namespace), then run the cell again here: a
    // lock left on another host is held (exit 2) unless the caller holds the cell's lease
    const runs = path.join(root, "runs")
    const dir = path.join(runs, "cells", cells[1]!.runId)
    const victim = start(["study", "run-cell", file, "--index", "1", "--runs-dir", runs, "--cache", cache], undefined, "rk-other-host")
    await until(() => lastStep(dir) >= 22 || victim.child.exitCode !== null, "cell 1 to reach step 22")
    victim.child.kill("SIGKILL")
    await victim.exited
    expect(readJson(path.join(dir, "manifest.json")).status).not.toBe("finished")
    const lock = path.join(dir, "run.lock")
    expect(readJson(lock).host).toBe("rk-other-host")
    const held = await run(["study", "run-cell", file, "--index", "1", "--runs-dir", runs, "--cache", cache])
    expect(held.code).toBe(2)
    expect(held.out).toContain("rk-other-host")
    const resumed = await run(["study", "run-cell", file, "--index", "1", "--runs-dir", runs, "--cache", cache, "--take-over-lock"])
    expect(resumed.code).toBe(0)
    expect(resumed.out).toContain("finished in")
    expect(readJson(path.join(dir, "manifest.json")).status).toBe("finished")
    expect(fs.readFileSync(path.join(dir, "events.jsonl"), "utf8")).toMatch(/"resumedFrom":\d+/)
    expect(comparableEvents(dir)).toEqual(comparableEvents(refDir))
    expect(fs.existsSync(lock)).toBe(false)

    // collect: study.json lists every cell, one finished, the rest missing; report.html exists
    const collected = await run(["study", "collect", file, "--runs-dir", runs])
    expect(collected.code).toBe(0)
    const study = readJson(path.join(runs, "cells", "study.json"))
    expect(study.variants.map((v: { dir: string }) => v.dir)).toEqual(cells.map((c) => c.runId))
    expect(study.variants.map((v: { status: string }) => v.status)).toEqual(["missing", "finished", "missing", "missing"])
    expect(fs.existsSync(path.join(runs, "cells", "report.html"))).toBe(true)
    expect(collected.out).toContain("3 of 4 cells not finished")
  })
})
