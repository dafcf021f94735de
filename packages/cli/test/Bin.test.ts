/**
 * The installed `rekindle` bin, as a child process (a few cases only: each start costs ~1 s):
 * exit codes 0 / 2 / 1 and no stack trace on user errors.
 */
import { spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { fixture } from "./helpers.ts"

const bin = fileURLToPath(new URL("../bin/rekindle.mjs", import.meta.url))
const rekindle = (...args: Array<string>) => {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", timeout: 60_000 })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

/** Runs the bin and returns the module URLs the process resolved. */
const imports = (...args: Array<string>) => {
  const file = join(mkdtempSync(join(tmpdir(), "rekindle-imports-")), "imports.txt")
  const hook = fileURLToPath(new URL("./scripts/record-imports.mjs", import.meta.url))
  const r = spawnSync(process.execPath, ["--import", hook, bin, ...args], {
    encoding: "utf8", timeout: 60_000, env: { ...process.env, REKINDLE_IMPORTS: file }
  })
  let urls: Array<string> = []
  try {
    urls = readFileSync(file, "utf8").split("\n").filter((u) => u !== "")
  } catch { /* nothing resolved */ }
  return { code: r.status, out: r.stdout, urls }
}

describe("rekindle bin", { timeout: 60_000 }, () => {
  it("--version loads nothing of the CLI; --help loads the command definitions only (no TF.js, compiler, trainer, tsx)", () => {
    const version = imports("--version")
    expect(version.code).toBe(0)
    expect(version.out).toBe(`rekindle v${JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version}\n`)
    expect(version.urls.filter((u) => u.includes("/src/") || u.includes("effect"))).toEqual([])
    for (const args of [["--help"], ["run", "--help"], ["replicate", "--help"]]) {
      const help = imports(...args)
      expect(help.code).toBe(0)
      expect(help.out).toContain("USAGE")
      expect(help.urls.some((u) => u.endsWith("/packages/cli/src/Cli.ts"))).toBe(true)
      const heavy = help.urls.filter((u) =>
        /@tensorflow|\/tsx\/|\/packages\/(pipeline\/src\/(index|Compile|Resolve)\.ts|builtins|model|engine|data|recycling|training|replication|run\/src\/index\.ts)|\/plugins\/|\/packages\/core\/src\/index\.ts|\/packages\/report\/src\/index\.ts|\/bench\/src\//.test(u))
      expect(heavy).toEqual([])
    }
  })

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
