/**
 * `run`'s existing-folder rule with the stand-in trainer (a finished run is reported, not re-run;
 * `--force` runs it again), and the user errors of `resume` and `reproduce` (exit 2, a message
 * naming the folder, nothing written). The real runs are in test/e2e/resilience.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { calls, cli, cliWithFakeTrainer, fixture } from "./helpers.ts"

const tmp = () => mkdtempSync(join(tmpdir(), "rekindle-cli-resume-"))

/** A run folder with just a pipeline and a manifest of the given status (3 steps done). */
const runFolder = (root: string, name: string, status: string): string => {
  const dir = join(root, name)
  mkdirSync(dir)
  writeFileSync(join(dir, "pipeline.json"), JSON.stringify({ name: "x" }))
  writeFileSync(join(dir, "manifest.json"), JSON.stringify({
    name: "x",
    pipelineHash: "abcd1234",
    seed: 1,
    status,
    startedAt: "2026-01-01T00:00:00.000Z",
    steps: 10,
    stepsDone: 3,
    versions: {},
    node: process.version
  }))
  return dir
}

describe("run on an existing run folder", () => {
  it.effect("a finished run is reported and not run again; --force runs it again", () =>
    Effect.gen(function*() {
      const out = tmp()
      const first = yield* cliWithFakeTrainer(["run", fixture("good.ts"), "--out", out])
      expect(first.code).toBe(0)
      const before = calls.length
      const second = yield* cliWithFakeTrainer(["run", fixture("good.ts"), "--out", out])
      expect(second.code).toBe(0)
      expect(second.out).toMatch(/good: already finished in .*good-[0-9a-f]{8} \(final eval loss [0-9.]+\); nothing to do \(--force runs it again from scratch\)/)
      expect(calls.length).toBe(before)
      const forced = yield* cliWithFakeTrainer(["run", fixture("good.ts"), "--out", out, "--force"])
      expect(forced.code).toBe(0)
      expect(calls.length).toBe(before + 1)
    }))
})

describe("resume and reproduce: user errors", () => {
  it.effect("a missing folder, a folder that is not a run, an unfinished run to reproduce: exit 2, nothing written", () =>
    Effect.gen(function*() {
      const root = tmp()
      const missing = yield* cli(["resume", join(root, "nope")])
      expect(missing.code).toBe(2)
      expect(missing.err).toBe(`error: ${join(root, "nope")}: no such run folder`)

      const notRun = join(root, "not-a-run")
      mkdirSync(notRun)
      const r = yield* cli(["reproduce", notRun])
      expect(r.code).toBe(2)
      expect(r.err).toContain("not a run folder (cannot read pipeline.json")
      expect(r.err).not.toMatch(/\n\s+at /)

      const running = runFolder(root, "running", "interrupted")
      const unfinished = yield* cli(["reproduce", running])
      expect(unfinished.code).toBe(2)
      expect(unfinished.err).toContain("the run is interrupted, not finished; continue it with `rekindle resume")
      expect(readdirSync(running).sort()).toEqual(["manifest.json", "pipeline.json"])

      const finished = runFolder(root, "finished", "finished")
      const done = yield* cli(["resume", finished])
      expect(done.code).toBe(0)
      expect(done.out).toContain("already finished (3 steps); nothing to resume")
      expect(existsSync(join(finished, "run.lock"))).toBe(false)
    }))
})
