/**
 * `rekindle replicate` end to end through the real CLI in a child process, on the smoke version of
 * the replication study (every arm, one seed, 4 steps a cell, two cells at a time in their own
 * processes): a plan with an estimate first, every arm's run folder, replication.json with a result
 * per finding, the study's report; a second invocation runs nothing; a budget below the estimate
 * refuses to start.
 */
import { Arms } from "@rekindle/replication"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"

const root = path.resolve(import.meta.dirname, "../..")
const bin = path.join(root, "packages/cli/bin/rekindle.mjs")

const replicate = (out: string, ...args: Array<string>) => {
  const r = spawnSync(process.execPath, [bin, "replicate", "--smoke", "4", "--seeds", "1", "--out", out, "--cache", path.join(root, ".cache/rekindle"), ...args], {
    cwd: root,
    encoding: "utf8",
    timeout: 300_000
  })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

/** The run folders of the study folder, with their manifests' contents. */
const runs = (study: string) =>
  fs.readdirSync(study, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => ({
    name: d.name,
    manifest: fs.readFileSync(path.join(study, d.name, "manifest.json"), "utf8")
  }))

describe("rekindle replicate --smoke", () => {
  it("plans, runs every arm two at a time, analyses, and on a second invocation runs nothing", () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-e2e-replicate-"))
    const study = path.join(out, "replication")
    const first = replicate(out, "--jobs", "2")
    expect(first.code, first.err).toBe(0)
    expect(first.out).toMatch(/^plan: 22 cell\(s\) to run \(88 steps\), 2 at a time; 0 already finished; estimated wall time \d+/m)
    expect(first.err).toMatch(/started cell 21 \(midpoint-1 seed 1\); cells: \d+\/22 done/)
    expect(first.err).toMatch(/cells: 22\/22 done, 0 running, 0 failed, 0 queued/)

    // one finished run per arm, seed 1, and the study's files
    const folders = runs(study)
    expect(folders.map((f) => f.name.replace(/-[0-9a-f]{8}$/, "")).sort()).toEqual(Arms.armIds.map((a) => `replication-${a}`).sort())
    for (const f of folders) expect(JSON.parse(f.manifest).status, f.name).toBe("finished")
    const result = JSON.parse(fs.readFileSync(path.join(study, "replication.json"), "utf8"))
    expect(result.findings.map((f: { finding: string }) => f.finding)).toEqual(["F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9", "F10", "F11"])
    expect(result.runs).toHaveLength(22)
    expect(new Set(result.runs.map((r: { seed: number }) => r.seed))).toEqual(new Set([1]))
    expect(result.runs.map((r: { arm: string }) => r.arm)).toEqual([...Arms.armIds])
    const studyJson = JSON.parse(fs.readFileSync(path.join(study, "study.json"), "utf8"))
    expect(studyJson.variants.map((v: { status: string }) => v.status)).toEqual(Array(22).fill("finished"))
    expect(fs.existsSync(path.join(study, "report.html"))).toBe(true)
    for (const f of ["F1", "F6", "F11"]) expect(first.out).toMatch(new RegExp(`^${f} +(reproduced|contradicted|inconclusive) `, "m"))
    expect(first.out).toContain(path.join(study, "replication.json"))

    // again: every cell is finished, so nothing runs (no calibration, no cell started) and no run folder changes
    const second = replicate(out)
    expect(second.code, second.err).toBe(0)
    expect(second.out).toMatch(/^plan: 0 cell\(s\) to run \(0 steps\), 2 at a time; 22 already finished; nothing to run/m)
    expect(second.err).not.toContain("calibrating")
    expect(second.err).not.toContain("started cell")
    expect(runs(study)).toEqual(folders)
    expect(JSON.parse(fs.readFileSync(path.join(study, "replication.json"), "utf8")).runs).toHaveLength(22)
  })

  it("refuses to start (exit 2, nothing run) when the estimate exceeds --budget", () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-e2e-replicate-"))
    const r = replicate(out, "--budget", "1s")
    expect(r.code, r.err).toBe(2)
    expect(r.err).toMatch(/--budget 1s: the estimate is \d+ (s|min) for 22 cell\(s\), \d+ at a time, over the budget of 1 s/)
    expect(r.err).not.toMatch(/internal error|\n\s+at /)
    expect(r.err).not.toContain("started cell")
    expect(fs.existsSync(path.join(out, "replication"))).toBe(false)
  })
})
