/**
 * Detects a second copy of `effect` or `@tensorflow/tfjs-core` in the process. Two copies (a
 * plugin package that depends on its own `effect` instead of sharing rekindle's as a peer) make
 * schemas, errors and tensors of one copy unreadable by the other, and fail far from the cause.
 * `install()` registers a module resolution hook (before anything imports them) that records the
 * package folder every import of these packages resolves to; `duplicates()` lists the packages
 * seen in more than one folder. This module imports only node built-ins, so installing it loads
 * neither package itself.
 */
import * as fs from "node:fs"
import module from "node:module"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

/** The packages of which the process must hold exactly one copy. */
export const watched: ReadonlyArray<string> = ["effect", "@tensorflow/tfjs-core"]

/** One copy of a package: its folder and version. */
export interface Copy {
  readonly dir: string
  readonly version: string
}

/** A package loaded from more than one folder. */
export interface Duplicate {
  readonly name: string
  readonly copies: ReadonlyArray<Copy>
}

const registry = Symbol.for("rekindle/Copies")

type Seen = Map<string, Map<string, Copy>>

const seen = (): Seen => {
  const g = globalThis as { [registry]?: Seen }
  return (g[registry] ??= new Map())
}

/** The watched package a file belongs to and that package's folder, from the file's path. */
export const packageOf = (file: string): { readonly name: string; readonly dir: string } | undefined => {
  const parts = file.split(path.sep)
  const at = parts.lastIndexOf("node_modules")
  if (at < 0) return undefined
  const scoped = parts[at + 1]?.startsWith("@") === true
  const name = scoped ? `${parts[at + 1]}/${parts[at + 2]}` : parts[at + 1]
  if (name === undefined || !watched.includes(name)) return undefined
  return { name, dir: parts.slice(0, at + (scoped ? 3 : 2)).join(path.sep) }
}

const versionOf = (dir: string): string => {
  try {
    return String((JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as { version?: unknown }).version)
  } catch {
    return "unknown version"
  }
}

/** Records the package folder of a resolved module URL, if it is a watched package. */
export const record = (url: string): void => {
  if (!url.startsWith("file:")) return
  const pkg = packageOf(fileURLToPath(url))
  if (pkg === undefined) return
  const byDir = seen().get(pkg.name) ?? new Map<string, Copy>()
  if (!byDir.has(pkg.dir)) byDir.set(pkg.dir, { dir: pkg.dir, version: versionOf(pkg.dir) })
  seen().set(pkg.name, byDir)
}

let installed = false

/** Registers the resolution hook (once); imports resolved from then on are recorded. */
export const install = (): void => {
  if (installed) return
  installed = true
  module.registerHooks({
    resolve: (specifier, context, nextResolve) => {
      const resolved = nextResolve(specifier, context)
      record(resolved.url)
      return resolved
    }
  })
}

/** Every watched package seen in more than one folder. */
export const duplicates = (): ReadonlyArray<Duplicate> =>
  [...seen()].flatMap(([name, byDir]) => (byDir.size > 1 ? [{ name, copies: [...byDir.values()] }] : []))

/** The message for duplicates: each package, every folder it was loaded from, and the fix. */
export const message = (found: ReadonlyArray<Duplicate>): string =>
  [
    ...found.flatMap((d) => [
      `${d.copies.length} copies of "${d.name}" are loaded; rekindle and its plugins must share one:`,
      ...d.copies.map((c) => `  ${c.dir} (${c.version})`)
    ]),
    `fix: in your plugin package, list ${found.map((d) => `"${d.name}"`).join(" and ")} under "peerDependencies" ` +
    `(not "dependencies") with the version rekindle uses, then reinstall; \`npm ls ${found.map((d) => d.name).join(" ")}\` must show one version, deduped`
  ].join("\n")
