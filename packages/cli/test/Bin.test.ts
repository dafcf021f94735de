/**
 * The installed `rekindle` bin, as a child process (a few cases only: each start costs ~1 s):
 * exit codes 0 / 2 / 1 and no stack trace on user errors.
 */
import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { fixture } from "./helpers.ts"

const bin = fileURLToPath(new URL("../bin/rekindle.mjs", import.meta.url))
const rekindle = (...args: Array<string>) => {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", timeout: 60_000 })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

describe("rekindle bin", { timeout: 60_000 }, () => {
  it("exits 0 on a valid pipeline", () => {
    const r = rekindle("validate", fixture("good.ts"))
    expect(r.err).toBe("")
    expect(r.out).toContain("good.ts: ok")
    expect(r.code).toBe(0)
  })

  it("exits 2 on a user error, with the message and no stack trace", () => {
    const r = rekindle("validate", fixture("unknown-key.yaml"))
    expect(r.code).toBe(2)
    expect(r.err).toBe(`error: invalid pipeline:\n  modle: unknown key; did you mean "model"?\n`)
    expect(r.out).toBe("")
  })

  it("exits 1 on an internal error, with the trace", () => {
    const r = rekindle("validate", fixture("buggy.ts"))
    expect(r.code).toBe(1)
    expect(r.err).toContain("bug in t/buggy")
    expect(r.err).toMatch(/\n\s+at .*plugin\.ts/)
  })
})
