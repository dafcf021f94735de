import { describe, expect, it } from "vitest"
import * as CellProcesses from "../src/CellProcesses.ts"
import type * as CellReport from "../src/CellReport.ts"

const timings = { start: 1, end: 2 }
const report = (r: Partial<CellReport.CellReport>): CellReport.CellReport => ({ index: 0, status: "finished", timings, ...r })

describe("CellProcesses.verdict", () => {
  it("a finished result file with exit 0 is a success, whatever stderr says", () => {
    const v = CellProcesses.verdict({ code: 0, signal: null, err: "warning: something failed to print\n", report: report({ finalEvalLoss: 3.5 }) })
    expect(v).toEqual({ ok: true, report: report({ finalEvalLoss: 3.5 }) })
  })
  it("a failed result file gives the cell's own error, not stderr's last problem line", () => {
    const error = "bad input at train.steps: expected a positive integer, got -1"
    const v = CellProcesses.verdict({ code: 2, signal: null, err: "error: unrelated noise\n", report: report({ status: "failed", kind: "user", error }) })
    expect(v).toEqual({ ok: false, why: error })
  })
  it("exit 0 without a result file is a failure (the cell never reported)", () => {
    const v = CellProcesses.verdict({ code: 0, signal: null, err: "", report: undefined })
    expect(v.ok).toBe(false)
  })
  it("a killed child without a result file says what killed it", () => {
    const v = CellProcesses.verdict({ code: null, signal: "SIGKILL", err: "step 10\nerror: out of memory\n", report: undefined })
    expect(v).toEqual({ ok: false, why: "the cell's process was killed by SIGKILL:\nerror: out of memory" })
  })
})
