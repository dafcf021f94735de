import { describe, expect, it } from "vitest"
import * as Database from "../src/Database.ts"
import { type CellState, line, summarize } from "../src/Progress.ts"

const cell = (index: number, status: CellState["status"], worker: string | null, secs?: [number, number], attempts = 1): CellState => ({
  index,
  runId: `r-${index}`,
  status,
  worker,
  attempts,
  startedAt: secs !== undefined ? new Date(secs[0] * 1000) : null,
  finishedAt: secs !== undefined && status !== "running" ? new Date(secs[1] * 1000) : null,
  error: null
})

describe("Progress", () => {
  it("counts cells and estimates the time left from finished cells and the cells running at once", () => {
    const s = summarize([
      cell(0, "finished", "w1", [0, 10]),
      cell(1, "finished", "w2", [0, 20]),
      cell(2, "running", "w1", [10, 0]),
      cell(3, "running", "w2", [20, 0], 2),
      cell(4, "queued", null),
      cell(5, "failed", "w1", [0, 1])
    ])
    expect([s.total, s.done, s.running.length, s.failed, s.queued]).toEqual([6, 2, 2, 1, 1])
    // 3 cells left, 2 at a time, 15 s each: 2 rounds of 15 s
    expect(s.etaSeconds).toBe(30)
    expect(line(s)).toBe("2/6 done, 2 running (cell 2 on w1, cell 3 on w2 attempt 2), 1 failed, ETA 30 s")
  })

  it("has no estimate before a cell finishes, and none once all are done", () => {
    expect(line(summarize([cell(0, "queued", null)]))).toBe("0/1 done, 0 running, 0 failed")
    expect(line(summarize([cell(0, "finished", "w", [0, 5])]))).toBe("1/1 done, 0 running, 0 failed")
  })
})

describe("Database URLs", () => {
  it("accepts postgres URLs and hides passwords in messages", async () => {
    const { Effect, Exit } = await import("effect")
    expect(Exit.isSuccess(await Effect.runPromiseExit(Database.parseUrl("--db", "postgresql://u:p@h:5432/d")))).toBe(true)
    const bad = await Effect.runPromiseExit(Database.parseUrl("--db", "mysql://u:secret@h/d"))
    expect(Exit.isFailure(bad)).toBe(true)
    expect(JSON.stringify(bad)).toContain("expected a PostgreSQL URL")
    expect(JSON.stringify(bad)).not.toContain("secret")
    expect(Database.redact("postgres://u:secret@h:1/d")).toBe("postgres://u:***@h:1/d")
  })
})
