/**
 * The plugin author's path outside the repo, end to end: `npm run pack` packs the rekindle
 * packages; `rekindle new criterion`, `rekindle new criterion` (for the Taylor worked example) and
 * `rekindle new hook` scaffold three packages side by side in a temporary folder outside the
 * repository, and one `npm install` installs the tarballs for all three (an npm workspace root
 * above them, from the npm cache where it can: --prefer-offline; one install keeps the test's time
 * flat as kinds are added). Each package then type-checks with its own tsconfig, passes its own
 * conformance test under its own vitest and drives a 5-step `rekindle run` of its pipeline:
 * - the criterion recycles with its picks (its id, k = round(0.1 · 64) = 6 neurons, scores = the
 *   chosen neurons' magnitudes, the same picks as the magnitude-smallest shadow);
 * - the Taylor worked example of docs/writing-a-criterion.md (examples/criterion-taylor's source and
 *   test, copied into its package) recycles from the signal it declares: the same picks as the
 *   built-in select/taylor shadow; killed mid-window and resumed, a longer run of it ends with the
 *   uninterrupted run's events;
 * - the hook (an anchored L2 penalty) takes its anchor at step 2 and reports its distance from then on.
 * The phases' times are printed.
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
const lab = path.join(work, "lab")
const rekindleBin = path.join(root, "packages/cli/bin/rekindle.mjs")
/** The scaffolded packages (folders under `lab`), by what they test. */
const pkgs = { picks: path.join(lab, "picks"), taylor: path.join(lab, "taylor"), anchor: path.join(lab, "anchor") }

/** Adds shadows to a scaffolded pipeline's recycling stage (to compare the picks with built-ins). */
const addShadows = (pkg: string, shadows: ReadonlyArray<string>) => {
  const pipeline = path.join(pkg, "pipeline.ts")
  const source = fs.readFileSync(pipeline, "utf8")
  const list = shadows.map((s) => `{ use: "${s}" }`).join(", ")
  fs.writeFileSync(pipeline, source.replace(`optimizerState: "zero-moments"`, `optimizerState: "zero-moments",\n    shadow: [${list}]`))
}

/**
 * Once for the file: packs rekindle, scaffolds the three packages, puts the Taylor example's two
 * files into its package, and installs everything with one `npm install` at a workspace root above them.
 */
const installed = (() => {
  let done = false
  return () => {
    if (done) return
    expect(path.relative(root, work).startsWith("..")).toBe(true)
    sh("pack", process.execPath, [path.join(root, "scripts/pack.mjs"), "--out", packs], root)
    const scaffold = (kind: string, name: string, pkg: string) => sh(`new ${kind} ${name}`, process.execPath, [rekindleBin, "new", kind, name, "--dir", pkg, "--packs", packs], work)
    scaffold("criterion", "e2e/picks", pkgs.picks)
    addShadows(pkgs.picks, ["select/magnitude-smallest"])
    scaffold("criterion", "lab/taylor", pkgs.taylor)
    // the doc's two files (test/e2e/example-plugin.test.ts checks that the doc shows exactly these)
    const example = path.join(root, "examples/criterion-taylor")
    for (const file of ["src/index.ts", "test/taylor.test.ts"]) fs.copyFileSync(path.join(example, file), path.join(pkgs.taylor, file))
    // the scaffolded pipeline as it is, plus the built-in Taylor criterion as a shadow to compare the picks
    expect(fs.readFileSync(path.join(pkgs.taylor, "pipeline.ts"), "utf8")).toContain(`select: { use: "lab/taylor", fraction: 0.1 }`)
    addShadows(pkgs.taylor, ["select/taylor", "select/magnitude-smallest"])
    scaffold("hook", "e2e/anchor", pkgs.anchor)
    // a user with several plugin packages in one folder: an npm workspace root above them
    fs.writeFileSync(path.join(lab, "package.json"), JSON.stringify({ name: "lab", private: true, workspaces: Object.keys(pkgs) }, null, 2))
    sh("npm install", "npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], lab)
    // one copy of each shared package, resolved inside the folder
    for (const shared of ["effect", "@tensorflow/tfjs-core", "@rekindle/core"]) {
      const copies = sh(`npm ls ${shared}`, "npm", ["ls", shared, "--all", "--parseable"], lab).trim().split("\n")
      expect(new Set(copies.map((c) => fs.realpathSync(c))).size, shared).toBe(1)
    }
    done = true
  }
})()

/**
 * What every scaffolded package must do in its own folder: its tsconfig type-checks its files and
 * the rekindle sources they import, its own test file passes with `tests` tests under its own
 * vitest, and a 5-step `rekindle run` of its pipeline finishes. Returns the run's events.
 */
const checkPackage = (name: keyof typeof pkgs, tests: number): Array<Event.Event> => {
  installed()
  const pkg = pkgs[name]
  sh(`npm run typecheck (${name})`, "npm", ["run", "typecheck"], pkg)
  const test = sh(`npm test (${name})`, "npm", ["test"], pkg)
  expect(test).toMatch(/Test Files\s+1 passed/)
  expect(test).toMatch(new RegExp(`Tests\\s+${tests} passed`))
  const run = sh(`rekindle run (${name})`, "npx", ["rekindle", "run", "pipeline.ts"], pkg)
  expect(run).toContain("done: 5 steps")
  const [folder] = fs.readdirSync(path.join(pkg, "runs"))
  return Event.decodeLines(fs.readFileSync(path.join(pkg, "runs", folder!, "events.jsonl"), "utf8"))
}

/** The Recycle events of a run's events. */
const recyclesOf = (events: ReadonlyArray<Event.Event>) => events.flatMap((e) => (e._tag === "Recycle" ? [e] : []))

describe("plugin packages outside the repo", () => {
  it("a criterion: scaffolded and installed, passes its conformance test and drives a 5-step run with its picks", () => {
    const recycles = recyclesOf(checkPackage("picks", 11))
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

  it("the Taylor worked example of docs/writing-a-criterion.md: one source, one test, a signal it declares; resumes exactly", async () => {
    const recycles = recyclesOf(checkPackage("taylor", 8))
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
    const pkg = pkgs.taylor
    const longer = ["--set", "train.steps=24", "--set", "train.checkpointEvery=4", "--set", "recycling.0.schedule.every=3"]
    const where = { bin: path.join(lab, "node_modules/@rekindle/cli/bin/rekindle.mjs"), cwd: pkg }
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

  it("a step hook: scaffolded and installed, passes the hook conformance suite and acts in a 5-step run", () => {
    const events = checkPackage("anchor", 7)
    // anchored before the update of step 2 (distance 0 then), pulled towards it afterwards
    const distances = events.flatMap((e) => (e._tag === "Scalar" && e.probe === "e2e/anchor" ? [[e.step, e.value]] : []))
    expect(distances.map(([step]) => step)).toEqual([2, 3, 4])
    expect(distances[0]![1]).toBe(0)
    for (const [, d] of distances.slice(1)) expect(d).toBeGreaterThan(0)
    console.log(`scaffold e2e (hook): ${times.join(", ")}`)
  })
})
