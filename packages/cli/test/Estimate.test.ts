import { describe, expect, it } from "vitest"
import * as Estimate from "../src/Estimate.ts"
import { seedsSet } from "../src/commands/Replicate.ts"

describe("a study's time estimate", () => {
  const speed = { msPerStep: 40, msPerCell: 2000, msPerProcess: 5000 }

  it("a cell costs its steps at the measured speed plus a fixed part", () => {
    expect(Estimate.cellMs(speed, 3000)).toBe(122_000)
    expect(Estimate.cellMs(speed, 0)).toBe(2000)
  })

  it("cells run jobs at a time, each on the first free slot, in order", () => {
    expect(Estimate.makespan([10, 10, 10, 10], 2)).toBe(20)
    expect(Estimate.makespan([10, 10, 10], 2)).toBe(20)
    expect(Estimate.makespan([30, 10, 10, 10], 2)).toBe(30)
    // in order, not rearranged: a long last cell ends last
    expect(Estimate.makespan([10, 10, 30], 2)).toBe(40)
    expect(Estimate.makespan([5, 5, 5], 1)).toBe(15)
    expect(Estimate.makespan([], 2)).toBe(0)
    // more jobs than cells: the longest cell
    expect(Estimate.makespan([7, 3], 8)).toBe(7)
    // busy slots (running cells' remaining time) are taken first
    expect(Estimate.makespan([10], 2, [25, 4])).toBe(25)
    expect(Estimate.makespan([10, 10], 2, [25, 4])).toBe(25)
    expect(Estimate.makespan([10, 10, 10], 2, [25, 4])).toBe(34)
  })

  it("the whole study: each job's process starts once, then its cells", () => {
    // 4 cells of 3000 steps, 2 at a time: 5 s start + 2 × 122 s per job
    expect(Estimate.total(speed, [3000, 3000, 3000, 3000], 2)).toBe(5000 + 2 * 122_000)
    // one cell: one process
    expect(Estimate.total(speed, [3000], 2)).toBe(5000 + 122_000)
    expect(Estimate.total(speed, [], 2)).toBe(0)
  })

  it("the ETA: queued cells and the running cells' remaining time, corrected by how long finished cells really took", () => {
    expect(Estimate.correction([])).toBe(1)
    expect(Estimate.correction([{ estimatedMs: 100, actualMs: 150 }, { estimatedMs: 100, actualMs: 250 }])).toBe(2)
    // two running (one half done, one overdue), two queued of 100 ms, 2 jobs
    const running = [{ estimatedMs: 100, elapsedMs: 50 }, { estimatedMs: 100, elapsedMs: 130 }]
    expect(Estimate.eta({ queued: [100, 100], running, jobs: 2, factor: 1 })).toBe(150)
    // everything takes twice as long: 200 − 50 = 150 and 200 − 130 = 70 left, then 200 each
    expect(Estimate.eta({ queued: [100, 100], running, jobs: 2, factor: 2 })).toBe(350)
    expect(Estimate.eta({ queued: [], running: [], jobs: 2, factor: 1 })).toBe(0)
  })

  it("reads --budget durations, with units or in minutes, and refuses anything else", () => {
    expect(Estimate.parseDuration("1s")).toBe(1000)
    expect(Estimate.parseDuration("90s")).toBe(90_000)
    expect(Estimate.parseDuration("45m")).toBe(2_700_000)
    expect(Estimate.parseDuration("45min")).toBe(2_700_000)
    expect(Estimate.parseDuration("1h30m")).toBe(5_400_000)
    expect(Estimate.parseDuration("1.5h")).toBe(5_400_000)
    expect(Estimate.parseDuration("60")).toBe(3_600_000)
    expect(Estimate.parseDuration("2d")).toBe(172_800_000)
    for (const bad of ["", "soon", "10 parsecs", "1h junk", "-5m", "m"]) expect(Estimate.parseDuration(bad), bad).toBeUndefined()
  })

  it("prints durations for people", () => {
    expect(Estimate.formatDuration(400)).toBe("0 s")
    expect(Estimate.formatDuration(45_000)).toBe("45 s")
    expect(Estimate.formatDuration(12 * 60_000)).toBe("12 min")
    expect(Estimate.formatDuration(65 * 60_000)).toBe("1 h 05 min")
  })

  it("--seeds N is the study's seeds 1..N, as a --set every cell's process reads", () => {
    expect(seedsSet(1)).toBe("seeds=[1]")
    expect(seedsSet(3)).toBe("seeds=[1, 2, 3]")
  })
})
