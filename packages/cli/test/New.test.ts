/**
 * `rekindle new`: every kind's package is written whole (package.json with effect and the core as
 * peers, Node 22 pinned, vitest, a standalone tsconfig, one source, one test, a pipeline using the
 * part), and is real: inside this repo (so the rekindle packages resolve from the workspace) its
 * files type-check with its own tsconfig, its conformance test passes, and `rekindle validate`
 * accepts its pipeline. Bad requests exit 2 and write nothing. (The same flow outside the repo,
 * from packed packages, is test/e2e/scaffold.test.ts.)
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll } from "vitest"
import { kinds } from "../src/scaffold/Kinds.ts"
import { tarballs } from "../src/scaffold/Scaffold.ts"
import { cli } from "./helpers.ts"

const root = path.resolve(fileURLToPath(new URL("../../..", import.meta.url)))
const bin = (name: string) => path.join(root, "node_modules", ".bin", name)
/** Scaffolds go under packages/cli/.scaffold-* so the workspace's packages resolve from them. */
const scratch = fs.mkdtempSync(path.join(root, "packages", "cli", ".scaffold-"))
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }))

const sh = (cmd: string, args: ReadonlyArray<string>, cwd: string) => {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", timeout: 200_000, env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" } })
  return { code: r.status, out: `${r.stdout}${r.stderr}` }
}

describe("rekindle new", { timeout: 240_000 }, () => {
  for (const kind of kinds) {
    it.effect(`${kind.name}: a standalone package that type-checks, passes its conformance test and validates`, () =>
      Effect.gen(function*() {
        const dir = path.join(scratch, kind.name)
        const r = yield* cli(["new", kind.name, `acme/my-${kind.name}`, "--dir", dir])
        expect(r.code).toBe(0)
        const files = ["package.json", "tsconfig.json", "src/index.ts", `test/my-${kind.name}.test.ts`, "pipeline.ts", "rekindle.config.ts", "README.md", ".gitignore"]
        for (const f of files) expect(fs.existsSync(path.join(dir, f)), f).toBe(true)
        const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"))
        expect(pkg.peerDependencies).toEqual({ "@rekindle/core": "^0.1.0", effect: "4.1.5", ...kind.peers })
        expect(pkg.dependencies).toBeUndefined()
        expect(pkg.devDependencies).toMatchObject({ node: "^22.19.0", vitest: "5.1.1", effect: "4.1.5", "@rekindle/testing": "^0.1.0", "@rekindle/cli": "^0.1.0" })
        expect(pkg.scripts.test).toBe("vitest run")
        expect(fs.readFileSync(path.join(dir, "src/index.ts"), "utf8")).toContain(`namespace: "acme"`)

        const tsc = sh(bin("tsc"), ["--noEmit", "-p", "."], dir)
        expect(tsc.out).toBe("")
        expect(tsc.code).toBe(0)
        const test = sh(bin("vitest"), ["run"], dir)
        expect(test.out).toMatch(/Test Files\s+1 passed/)
        expect(test.code).toBe(0)
        const validate = sh(process.execPath, [path.join(root, "packages/cli/bin/rekindle.mjs"), "validate", "pipeline.ts"], dir)
        expect(validate.out).toContain(`pipeline.ts: ok (my-${kind.name}: 5 steps`)
        expect(validate.code).toBe(0)
      }))
  }

  it.effect("refuses a folder that is not empty, an unknown kind and a bad name (exit 2, nothing written)", () =>
    Effect.gen(function*() {
      const dir = path.join(scratch, "taken")
      fs.mkdirSync(dir)
      fs.writeFileSync(path.join(dir, "keep.txt"), "mine")
      const taken = yield* cli(["new", "criterion", "x", "--dir", dir])
      expect(taken.code).toBe(2)
      expect(taken.err).toContain("already exists and is not an empty folder")
      expect(fs.readdirSync(dir)).toEqual(["keep.txt"])

      const unknown = yield* cli(["new", "optimiser", "x", "--dir", path.join(scratch, "u")])
      expect(unknown.code).toBe(2)
      expect(unknown.err).toContain(`unknown kind "optimiser"; rekindle new makes: criterion, reinit, sink, signal, hook`)
      const bad = yield* cli(["new", "criterion", "My_Criterion", "--dir", path.join(scratch, "b")])
      expect(bad.code).toBe(2)
      expect(bad.err).toContain(`id "My_Criterion" must be lowercase letters, digits and dashes`)
      expect(fs.readdirSync(scratch).sort()).toEqual([...kinds.map((k) => k.name), "taken"].sort())
    }))

  it("--packs: depends on each packed tarball by file: path", () => {
    const packs = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-packs-"))
    try {
      for (const f of ["rekindle-core-0.1.0.tgz", "rekindle-plugin-select-0.1.0.tgz", "notes.txt"]) fs.writeFileSync(path.join(packs, f), "")
      expect(tarballs(packs)).toEqual({
        "@rekindle/core": `file:${path.join(packs, "rekindle-core-0.1.0.tgz")}`,
        "@rekindle/plugin-select": `file:${path.join(packs, "rekindle-plugin-select-0.1.0.tgz")}`
      })
    } finally {
      fs.rmSync(packs, { recursive: true, force: true })
    }
  })
})
