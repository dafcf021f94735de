#!/usr/bin/env node
// `npm run pack [-- --out DIR]`: packs every rekindle package a plugin author installs (@rekindle/cli,
// @rekindle/builtins, @rekindle/pipeline, @rekindle/testing and everything they depend on in this repo) into
// dist/packs/*.tgz with `npm pack`. Install them into a plugin folder with
// `rekindle new <kind> <name> --packs dist/packs` (or npm install dist/packs/*.tgz). The packages
// ship their TypeScript sources (`files`); tsx (the rekindle bin) and vitest load them from
// node_modules as they are. The packages stay "private" in this repo (nothing is published by
// accident); npm pack ignores that.
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"

const root = path.resolve(import.meta.dirname, "..")
const outFlag = process.argv.indexOf("--out")
const out = path.resolve(outFlag >= 0 ? process.argv[outFlag + 1] : path.join(root, "dist", "packs"))

/** Workspace folder of every @rekindle package, by name. */
const workspaces = new Map()
const rootPkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"))
for (const pattern of rootPkg.workspaces) {
  const dirs = pattern.endsWith("/*")
    ? fs.readdirSync(path.join(root, pattern.slice(0, -2)), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => path.join(pattern.slice(0, -2), d.name))
    : [pattern]
  for (const dir of dirs) {
    const file = path.join(root, dir, "package.json")
    if (!fs.existsSync(file)) continue
    const pkg = JSON.parse(fs.readFileSync(file, "utf8"))
    workspaces.set(pkg.name, { dir, pkg })
  }
}

/** What a plugin author installs, and everything it depends on within the repo. */
const wanted = ["@rekindle/cli", "@rekindle/builtins", "@rekindle/pipeline", "@rekindle/testing", "@rekindle/core"]
const packed = new Set()
const visit = (name) => {
  if (packed.has(name) || !workspaces.has(name)) return
  packed.add(name)
  const { pkg } = workspaces.get(name)
  for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) visit(dep)
}
wanted.forEach(visit)

const problems = []
for (const name of packed) {
  const { dir, pkg } = workspaces.get(name)
  if (!Array.isArray(pkg.files)) problems.push(`${dir}/package.json: no "files" list (tests and tsconfig would ship)`)
  if (pkg.publishConfig === undefined) problems.push(`${dir}/package.json: no "publishConfig"`)
}
if (problems.length > 0) {
  console.error(`error: not packable:\n  ${problems.join("\n  ")}`)
  process.exit(2)
}

fs.rmSync(out, { recursive: true, force: true })
fs.mkdirSync(out, { recursive: true })
const args = ["pack", "--loglevel=warn", "--pack-destination", out, ...[...packed].flatMap((name) => ["-w", workspaces.get(name).dir])]
execFileSync("npm", args, { cwd: root, stdio: ["ignore", "ignore", "inherit"] })
const files = fs.readdirSync(out).filter((f) => f.endsWith(".tgz")).sort()
console.log(`${files.length} packages packed into ${path.relative(process.cwd(), out) || "."}:\n  ${files.join("\n  ")}`)
