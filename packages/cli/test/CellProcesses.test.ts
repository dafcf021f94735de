/**
 * The serve-cells pool with real child processes: `warmUp` returns once each warm child has
 * preloaded the engine, a cell that fails is reported from the child's own words, and the failed
 * child is retired and replaced so the pool keeps its warm count.
 */
import { Effect } from "effect"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import * as CellProcesses from "../src/CellProcesses.ts"

describe("CellProcesses.make", () => {
  it("warmUp waits for the warm children; a failed cell is a verdict and its child is replaced", async () => {
    const missing = path.join(os.tmpdir(), `rekindle-${process.pid}-no-such-study.ts`)
    const outcome = await Effect.runPromise(Effect.gen(function*() {
      const pool = CellProcesses.make({ warm: 1, echo: false })
      yield* pool.warmUp
      const first = yield* pool.run("k", [missing, "--index", "0"], "")
      // the failed child was replaced by a fresh one: warming up again waits for it
      yield* pool.warmUp
      const second = yield* pool.run("k", [missing, "--index", "0"], "")
      yield* pool.shutdown
      return { first, second }
    }))
    for (const exit of [outcome.first, outcome.second]) {
      expect(exit.code).toBe(2)
      const v = CellProcesses.verdict(exit)
      expect(v.ok).toBe(false)
      if (!v.ok) expect(v.why).toContain("no-such-study.ts")
    }
  }, 180_000)
})
