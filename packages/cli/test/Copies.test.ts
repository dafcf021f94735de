/**
 * A second copy of `effect` or `@tensorflow/tfjs-core` in the process stops the `rekindle` bin
 * with exit 2, naming every copy's folder and the fix. The second copy is real: the package's
 * files hard-linked (cp -al) into a node_modules folder of a temporary plugin folder, imported by
 * the pipeline file the way a plugin with its own dependency would.
 */
import { execFileSync, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"
import { packageOf } from "../src/Copies.ts"

const bin = fileURLToPath(new URL("../bin/rekindle.mjs", import.meta.url))
const root = path.resolve(fileURLToPath(new URL("../../..", import.meta.url)))

const made: Array<string> = []
afterAll(() => made.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })))

/** A folder with its own copy of `pkg` and a pipeline file importing it. */
const folderWithCopy = (pkg: string, pipeline: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-copies-"))
  made.push(dir)
  const target = path.join(dir, "node_modules", pkg)
  fs.mkdirSync(path.dirname(target), { recursive: true })
  execFileSync("cp", ["-al", path.join(root, "node_modules", pkg), target])
  fs.writeFileSync(path.join(dir, "pipeline.ts"), pipeline)
  return dir
}

const validate = (dir: string) => {
  const r = spawnSync(process.execPath, [bin, "validate", path.join(dir, "pipeline.ts")], { cwd: dir, encoding: "utf8", timeout: 60_000 })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

describe("a second copy of a shared package", { timeout: 60_000 }, () => {
  it("effect: exit 2, both folders named, the fix given, no stack trace", () => {
    const dir = folderWithCopy("effect", [
      `import { Schema } from "effect"`,
      `const Options = Schema.Struct({ tau: Schema.Number })`,
      `export default { name: "copies", options: Options.fields.tau === undefined }`
    ].join("\n"))
    const r = validate(dir)
    expect(r.code).toBe(2)
    expect(r.err).toContain(`2 copies of "effect" are loaded`)
    expect(r.err).toContain(`  ${path.join(root, "node_modules", "effect")} (4.1.5)`)
    expect(r.err).toContain(`  ${path.join(dir, "node_modules", "effect")} (4.1.5)`)
    expect(r.err).toContain(`list "effect" under "peerDependencies"`)
    expect(r.err).not.toMatch(/\n\s+at /)
    expect(r.out).toBe("")
  })

  it("@tensorflow/tfjs-core: exit 2, both folders named", () => {
    const dir = folderWithCopy("@tensorflow/tfjs-core", [
      `import * as tf from "@tensorflow/tfjs-core"`,
      `export default { name: "copies", seed: tf.version_core === "" ? 0 : 1 }`
    ].join("\n"))
    const r = validate(dir)
    expect(r.code).toBe(2)
    expect(r.err).toContain(`2 copies of "@tensorflow/tfjs-core" are loaded`)
    expect(r.err).toContain(`  ${path.join(root, "node_modules", "@tensorflow", "tfjs-core")} (4.22.0)`)
    expect(r.err).toContain(`  ${path.join(dir, "node_modules", "@tensorflow", "tfjs-core")} (4.22.0)`)
  })

  it("one copy: the same pipeline without its own copy validates", () => {
    const dir = fs.mkdtempSync(path.join(root, "packages", "cli", "test", ".copies-"))
    try {
      fs.writeFileSync(path.join(dir, "pipeline.ts"), `import * as tf from "@tensorflow/tfjs-core"\nexport default { name: "copies", seed: tf.version_core === "" ? 0 : 1 }\n`)
      const r = validate(dir)
      expect(r.err).toBe("")
      expect(r.code).toBe(0)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it("maps a file to its package folder (scoped and unscoped, nested node_modules)", () => {
    expect(packageOf("/a/node_modules/effect/dist/Schema.js")).toEqual({ name: "effect", dir: "/a/node_modules/effect" })
    expect(packageOf("/a/node_modules/x/node_modules/@tensorflow/tfjs-core/dist/index.js"))
      .toEqual({ name: "@tensorflow/tfjs-core", dir: "/a/node_modules/x/node_modules/@tensorflow/tfjs-core" })
    expect(packageOf("/a/node_modules/effectful/index.js")).toBeUndefined()
    expect(packageOf("/a/src/effect/index.js")).toBeUndefined()
  })
})
