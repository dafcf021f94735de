/**
 * The programmatic example runs as written: four tiny runs (two criteria × two seeds), each with
 * its own run folder whose Recycle events come from its variant's criterion, and one comparison
 * table with a row per criterion over both seeds.
 */
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Event } from "@rekindle/core"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { runStudy } from "../study.ts"

const root = path.resolve(import.meta.dirname, "../../..")

describe("examples/programmatic", () => {
  it.effect("builds a study in code, runs every variant and compares them", () =>
    Effect.gen(function*() {
      const out = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-programmatic-"))
      const { dirs, table } = yield* runStudy(out, path.join(root, ".cache/rekindle"))
      expect(dirs).toHaveLength(4)
      const criteria = dirs.map((dir) => {
        const events = Event.decodeLines(fs.readFileSync(path.join(dir, "events.jsonl"), "utf8"))
        const recycles = events.flatMap((e) => (e._tag === "Recycle" ? [e] : []))
        expect(recycles.map((e) => e.step)).toEqual([2, 4])
        expect(recycles.every((e) => e.indices.length === 6)).toBe(true) // round(0.1 · 64)
        expect(events.at(-1)?._tag).toBe("RunFinished")
        return recycles[0]!.criterion
      })
      expect(criteria.sort()).toEqual(["select/magnitude-smallest", "select/magnitude-smallest", "select/random", "select/random"])
      const rows = table.split("\n").filter((l) => l.includes("magnitude-vs-random"))
      expect(rows).toHaveLength(2)
      for (const row of rows) expect(row).toMatch(/\b2\b/) // two seeds per row
      fs.rmSync(out, { recursive: true, force: true })
    }).pipe(Effect.provide(NodeServices.layer)), { timeout: 300_000 })
})
