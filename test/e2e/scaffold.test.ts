/**
 * The plugin author's path outside the repo, end to end: `npm run pack` packs the rekindle
 * packages, `rekindle new criterion` scaffolds a package into a temporary folder outside the
 * repository, `npm install` installs the tarballs there (from the npm cache where it can:
 * --prefer-offline), it type-checks with its own tsconfig, its own conformance test passes under
 * its own vitest, and a 5-step `rekindle run` of its pipeline recycles with its criterion: the Recycle events carry its picks
 * (its id, k = round(0.1 · 64) = 6 neurons, scores = the chosen neurons' magnitudes, the same
 * picks as the magnitude-smallest shadow). The Taylor worked example of docs/writing-a-criterion.md
 * (examples/criterion-taylor's source and test, copied into a second scaffolded package) type-checks and passes
 * its own test there and drives a 5-step run from the signal it declares: the same picks as the
 * built-in select/taylor shadow; killed mid-window and resumed, a longer run of it ends with the
 * uninterrupted run's events. The phases' times are printed.
 */
import { Event } from "@rekindle/core"
import { Determinism } from "@rekindle/run"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { readEvents, rekindle, runFolder } from "./resilience/harness.ts"

const root = path.resolve(import.meta.dirname, "../..")
const work = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-scaffold-"))
afterAll(() => fs.rmSync(work, { recursive: true, force: true }))

/**
 * npm settings a user's shell has too, which the nested npm must keep: where its config files are
 * (a Node 22 from node_modules would otherwise look for the global npmrc beside itself and miss the
 * machine's CA file), the CA, the registry, proxies and the cache.
 */
const keptNpmConfig = /^npm_config_(globalconfig|userconfig|cafile|ca|cert|key|registry|cache|proxy|https_proxy|http_proxy|noproxy|strict_ssl)$/i

/**
 * The environment of a user's shell: without the other npm_* variables of the `npm test` running
 * this (a nested npm would otherwise take them as its own config), without colours.
 */
const env = {
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith("npm_") || keptNpmConfig.test(k))),
  NO_COLOR: "1",
  FORCE_COLOR: "0"
}
const times: Array<string> = []
/** Runs a command, records its time, and fails with its output when it fails. */
const sh = (label: string, cmd: string, args: ReadonlyArray<string>, cwd: string) => {
  const t0 = performance.now()
  const r = spawnSync(cmd, args, { cwd, env, encoding: "utf8", timeout: 400_000 })
  times.push(`${label} ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  const out = `${r.stdout ?? ""}${r.stderr ?? ""}`
  if (r.status !== 0) throw new Error(`${label} (${cmd} ${args.join(" ")}) exited ${r.status}:\n${out}`)
  return out
}

const packs = path.join(work, "packs")
/** Packs the rekindle packages once for every test of this file. */
const packed = (() => {
  let done = false
  return () => {
    if (!done) sh("pack", process.execPath, [path.join(root, "scripts/pack.mjs"), "--out", packs], root)
    done = true
    return packs
  }
})()

/** The Recycle events of the one run folder under `pkg/runs`. */
const recyclesOf = (pkg: string) => {
  const [folder] = fs.readdirSync(path.join(pkg, "runs"))
  const events = Event.decodeLines(fs.readFileSync(path.join(pkg, "runs", folder!, "events.jsonl"), "utf8"))
  return events.flatMap((e) => (e._tag === "Recycle" ? [e] : []))
}

describe("a criterion package outside the repo", () => {
  it("scaffolds, installs the packed packages, passes its conformance test and drives a 5-step run", () => {
    expect(path.relative(root, work).startsWith("..")).toBe(true)
    const packs = packed()
    const pkg = path.join(work, "picks")
    sh("new", process.execPath, [path.join(root, "packages/cli/bin/rekindle.mjs"), "new", "criterion", "e2e/picks", "--dir", pkg, "--packs", packs], work)
    // a shadow with the built-in equivalent, to compare the picks
    const pipeline = path.join(pkg, "pipeline.ts")
    fs.writeFileSync(pipeline, fs.readFileSync(pipeline, "utf8").replace(`optimizerState: "zero-moments"`, `optimizerState: "zero-moments",\n    shadow: [{ use: "select/magnitude-smallest" }]`))

    sh("npm install", "npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], pkg)
    // one copy of each shared package, resolved inside the folder
    for (const shared of ["effect", "@tensorflow/tfjs-core", "@rekindle/core"]) {
      const copies = sh(`npm ls ${shared}`, "npm", ["ls", shared, "--all", "--parseable"], pkg).trim().split("\n")
      expect(new Set(copies.map((c) => fs.realpathSync(c))).size, shared).toBe(1)
    }
    // its tsconfig type-checks its files and the rekindle sources they import from node_modules
    sh("npm run typecheck", "npm", ["run", "typecheck"], pkg)
    const test = sh("npm test", "npm", ["test"], pkg)
    expect(test).toMatch(/Test Files\s+1 passed/)
    expect(test).toMatch(/Tests\s+11 passed/)

    const run = sh("rekindle run", "npx", ["rekindle", "run", "pipeline.ts"], pkg)
    expect(run).toContain("done: 5 steps")
    const recycles = recyclesOf(pkg)
    expect(recycles.map((e) => [e.step, e.layer])).toEqual([[2, 0], [4, 0]])
    for (const e of recycles) {
      expect(e.criterion).toBe("e2e/picks")
      expect(e.indices).toHaveLength(6)
      // power 1: each score is the chosen neuron's magnitude, and their mean is magnitudeBefore
      expect(e.scores.reduce((a, b) => a + b, 0) / 6).toBeCloseTo(e.magnitudeBefore, 4)
      expect(e.shadow).toEqual([expect.objectContaining({ criterion: "select/magnitude-smallest", chosen: 6, jaccard: 1 })])
    }
    console.log(`scaffold e2e: ${times.join(", ")}`)
  })

  it("runs the Taylor worked example of docs/writing-a-criterion.md: one source, one test, a signal it declares; resumes exactly", async () => {
    const packs = packed()
    const pkg = path.join(work, "taylor")
    sh("new taylor", process.execPath, [path.join(root, "packages/cli/bin/rekindle.mjs"), "new", "criterion", "lab/taylor", "--dir", pkg, "--packs", packs], work)
    // the doc's two files (test/e2e/example-plugin.test.ts checks that the doc shows exactly these)
    const example = path.join(root, "examples/criterion-taylor")
    for (const file of ["src/index.ts", "test/taylor.test.ts"]) fs.copyFileSync(path.join(example, file), path.join(pkg, file))
    // the scaffolded pipeline as it is, plus the built-in Taylor criterion as a shadow to compare the picks
    const pipeline = path.join(pkg, "pipeline.ts")
    const source = fs.readFileSync(pipeline, "utf8")
    expect(source).toContain(`select: { use: "lab/taylor", fraction: 0.1 }`)
    fs.writeFileSync(pipeline, source.replace(`optimizerState: "zero-moments"`, `optimizerState: "zero-moments",\n    shadow: [{ use: "select/taylor" }, { use: "select/magnitude-smallest" }]`))

    sh("npm install (taylor)", "npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], pkg)
    sh("npm run typecheck (taylor)", "npm", ["run", "typecheck"], pkg)
    const test = sh("npm test (taylor)", "npm", ["test"], pkg)
    expect(test).toMatch(/Test Files\s+1 passed/)
    expect(test).toMatch(/Tests\s+8 passed/)

    const run = sh("rekindle run (taylor)", "npx", ["rekindle", "run", "pipeline.ts"], pkg)
    expect(run).toContain("done: 5 steps")
    const recycles = recyclesOf(pkg)
    expect(recycles.map((e) => [e.step, e.layer])).toEqual([[2, 0], [4, 0]])
    for (const e of recycles) {
      expect(e.criterion).toBe("lab/taylor")
      expect(e.indices).toHaveLength(6)
      // mean Taylor values of the chosen neurons over the steps since the last firing: measured, finite, >= 0
      expect(e.scores.every((s) => Number.isFinite(s) && s >= 0)).toBe(true)
      expect(e.scores.some((s) => s > 0)).toBe(true)
      // the built-in select/taylor reads the same signal over the same window: the same picks
      expect(e.shadow[0]).toEqual(expect.objectContaining({ criterion: "select/taylor", chosen: 6, jaccard: 1 }))
      expect(e.shadow[1]).toEqual(expect.objectContaining({ criterion: "select/magnitude-smallest", chosen: 6 }))
    }

    // killed mid-window between checkpoints and resumed, the run ends with the uninterrupted run's events
    // (lab/taylor's mean window lives in the host and is saved with the checkpoints)
    const longer = ["--set", "train.steps=24", "--set", "train.checkpointEvery=4", "--set", "recycling.0.schedule.every=3"]
    const where = { bin: path.join(pkg, "node_modules/@rekindle/cli/bin/rekindle.mjs"), cwd: pkg }
    const t0 = performance.now()
    const base = await rekindle(["run", "pipeline.ts", "--out", "runs-base", ...longer], undefined, env, where)
    expect(base.code, base.err).toBe(0)
    const uninterrupted = readEvents(path.join(runFolder(path.join(pkg, "runs-base"))!, "events.jsonl"))
    expect(uninterrupted.filter((e) => e._tag === "Recycle" && e.criterion === "lab/taylor").length).toBeGreaterThan(5)
    const killedOut = path.join(pkg, "runs-kill")
    const killed = await rekindle(["run", "pipeline.ts", "--out", "runs-kill", ...longer], { out: killedOut, step: 10, signal: "SIGKILL" }, env, where)
    expect(killed.signalled && killed.signal === "SIGKILL").toBe(true)
    const dir = runFolder(killedOut)!
    const resumed = await rekindle(["resume", dir], undefined, env, where)
    expect(resumed.code, resumed.err).toBe(0)
    const c = Determinism.compare(uninterrupted, readEvents(path.join(dir, "events.jsonl")))
    expect(c.equal, Determinism.describe(c, { expected: "uninterrupted", actual: "resumed" })).toBe(true)
    times.push(`kill and resume (taylor) ${((performance.now() - t0) / 1000).toFixed(1)} s`)
    console.log(`scaffold e2e (taylor): ${times.join(", ")}`)
  })
})
