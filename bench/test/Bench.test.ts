/**
 * The benchmark harness (no timing assertions): argument parsing, statistics, and one end-to-end
 * run of a micro configuration on the cpu backend that must produce a complete, consistent result
 * (breakdown, recycling event, logging through the real jsonl sink, bare loop, no leaked tensors).
 */
import { spawnSync } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { Backends } from "@rekindle/engine"
import * as tf from "@tensorflow/tfjs-core"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { parseArgs } from "../src/Bench.ts"
import { alternate } from "../src/PeerDuel.ts"
import type { BenchConfig } from "../src/Configs.ts"
import { run } from "../src/Run.ts"
import { summarize } from "../src/Stats.ts"

describe("bench harness", () => {
  it("parses flags with defaults", () => {
    expect(parseArgs([])).toEqual({ config: "reference", backend: "auto", blas: ["auto"], steps: 6, warmup: 2, peers: false, rounds: 5 })
    expect(parseArgs(["--config", "tiny", "--threads", "1", "--steps", "3", "--peers", "--memory", "50", "--every", "5"])).toEqual({
      config: "tiny", backend: "auto", blas: ["auto"], threads: 1, steps: 3, warmup: 2, peers: true, rounds: 5, memory: 50, every: 5
    })
    expect(parseArgs(["--peers", "--rounds", "0"]).rounds).toBe(0)
    expect(parseArgs(["--blas", "none,openblas", "--blas-threads", "2"])).toMatchObject({ blas: ["none", "openblas"], blasThreads: 2 })
  })

  it("alternates the duel's blocks and takes the ratio per round", async () => {
    const calls: Array<string> = []
    const rekindleMs = [300, 310, 320], peerMs = [330, 300, 352]
    let r = 0, p = 0
    const d = await Effect.runPromise(alternate(
      3,
      Effect.sync(() => (calls.push("rekindle"), rekindleMs[r++]!)),
      Effect.sync(() => (calls.push("peer"), peerMs[p++]!))
    ))
    expect(calls).toEqual(["rekindle", "peer", "peer", "rekindle", "rekindle", "peer"])
    expect(d.rounds.map((x) => x.rekindleFirst)).toEqual([true, false, true])
    expect(d.rounds.map((x) => x.ratio)).toEqual([330 / 300, 300 / 310, 352 / 320])
    expect(d.ratio).toEqual({ median: 1.1, min: 300 / 310, max: 1.1 })
    expect(d.rekindleMs.median).toBe(310)
    // a failing block ends the duel with its error
    const failed = await Effect.runPromise(Effect.flip(alternate(2, Effect.succeed(1), Effect.fail("no torch" as const))))
    expect(failed).toBe("no torch")
  })

  it("summarizes samples by median, min and max", () => {
    expect(summarize([5, 1, 3])).toEqual({ median: 3, min: 1, max: 5 })
    expect(summarize([4, 1, 3, 2])).toEqual({ median: 2.5, min: 1, max: 4 })
  })

  it("runs a micro configuration end to end on cpu", async () => {
    await Effect.runPromise(Backends.init({ name: "cpu" }))
    const micro: BenchConfig = {
      name: "micro",
      batchSize: 2,
      model: { dModel: 16, heads: 2, layers: 1, dFF: 32, seqLen: 8, vocabSize: 64, activation: "relu", ffBias: false, causal: false, finalLayerNorm: true }
    }
    const before = tf.memory().numTensors
    const r = await Effect.runPromise(run(micro, { steps: 2, warmup: 1 }, { name: "cpu", threads: 1 }))
    expect(r.config).toBe("micro")
    expect(r.tokensPerStep).toBe(16)
    for (const x of [r.tokensPerSec, r.stepMs.median, r.bareStepMs.median, r.recyclingMs.median, r.matmulGflops, r.effectiveGflops, r.matmulGflopsInterleaved, r.effectiveVsMatmulInterleaved]) {
      expect(x).toBeGreaterThan(0)
    }
    expect(r.loadAverage.every((x) => Number.isFinite(x) && x >= 0)).toBe(true)
    expect(r.effectiveVsMatmulInterleaved).toBeCloseTo(r.effectiveGflops / r.matmulGflopsInterleaved, 10)
    expect(r.loggingMs).toBeGreaterThanOrEqual(0)
    expect(r.optimizerMs).toBeGreaterThan(0)
    expect(r.otherMs).toBeGreaterThanOrEqual(0)
    expect(r.probesMs.median).toBeGreaterThan(0)
    expect(r.probesAndSinksVsStep).toBeCloseTo((r.probesMs.median / 100 + r.loggingMs) / r.stepMs.median, 10)
    expect(Number.isFinite(r.overhead)).toBe(true)
    expect(r.recyclingVsStep).toBeCloseTo(r.recyclingMs.median / r.stepMs.median, 10)
    expect(r.gradientSignals.arms.map((a) => a.criterion)).toEqual(["select/taylor", "select/snip"])
    for (const a of r.gradientSignals.arms) expect(a.stepMs.median > 0 && Number.isFinite(a.overhead) && a.observedSteps === 3).toBe(true)
    // a run whose criterion needs no signal installs no step observer: the plain step
    expect(r.gradientSignals.plainObserved).toBe(0)
    expect(r.tensorsAlive).toBe(before)
  }, 120_000)

  it("prints which matrix-product path it used and why", () => {
    const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..")
    const r = spawnSync(process.execPath, [
      path.join(root, "..", "node_modules", "tsx", "dist", "cli.mjs"), "src/main.ts", "--no-hugetlb",
      "--config", "tiny", "--backend", "wasm", "--threads", "1", "--blas", "none", "--steps", "1", "--warmup", "0"
    ], { cwd: root, encoding: "utf8" })
    expect(r.stderr).toBe("")
    expect(r.status).toBe(0)
    expect(r.stdout).toContain(`BLAS path: blas: "none" asked for: matrix products on XNNPACK (wasm)`)
    const line = JSON.parse(r.stdout.split("\n").find((l) => l.startsWith("{"))!) as { blas: { library: string } }
    expect(line.blas.library).toBe("none")
  }, 300_000)

  it("rejects bad input with the field, exit code 2 and no stack trace", () => {
    const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..")
    const r = spawnSync(process.execPath, [path.join(root, "..", "node_modules", "tsx", "dist", "cli.mjs"), "src/main.ts", "--no-hugetlb", "--config", "nope"], { cwd: root, encoding: "utf8" })
    expect(r.status).toBe(2)
    expect(r.stderr).toContain(`error: config: expected one of tiny, reference, wide, all (or a comma list), got "nope"`)
    expect(r.stderr).not.toMatch(/\n\s+at /)
  }, 60_000)
})
