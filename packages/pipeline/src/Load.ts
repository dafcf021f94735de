/**
 * Loading pipeline files: `.ts` (dynamic import; the default export is a pipeline or a study),
 * `.json` and `.yaml`/`.yml`, plus `rekindle.config.ts` in the working directory. Every failure
 * (missing file, syntax error with line and column, a module that throws on import) is a
 * UserError.
 */
import { isUserError, UserError } from "@rekindle/core"
import { Effect, FileSystem, Path } from "effect"
import { pathToFileURL } from "node:url"
import YAML from "yaml"
import type { Config } from "./Define.ts"
import type { AnyPlugin } from "./Registry.ts"
import { isStudy, pipelinesOf, type Study } from "./Study.ts"

/** What a pipeline file holds. */
export type Loaded =
  | { readonly _tag: "Pipeline"; readonly file: string; readonly pipeline: Record<string, unknown>; readonly plugins: ReadonlyArray<AnyPlugin> }
  | { readonly _tag: "Study"; readonly file: string; readonly study: Study; readonly plugins: ReadonlyArray<AnyPlugin> }

const fail = (message: string) => Effect.fail(new UserError({ message }))

const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/** Environment variable that sets how long loading a `.ts`/`.js` file may take, in seconds. */
export const loadTimeoutVariable = "REKINDLE_LOAD_TIMEOUT"

/** Seconds a module may take to load: `REKINDLE_LOAD_TIMEOUT`, default 60. */
export const loadTimeoutSeconds = (): number => {
  const v = Number(process.env[loadTimeoutVariable])
  return Number.isFinite(v) && v > 0 ? v : 60
}

/**
 * Imports a TypeScript/JavaScript module; a throw on import is the user's to fix. Loading is
 * time-boxed: a top-level `await` that never settles would otherwise hang `run` and `validate`.
 */
const importModule = (file: string) => {
  const seconds = loadTimeoutSeconds()
  return Effect.tryPromise({
    try: () => import(pathToFileURL(file).href) as Promise<Record<string, unknown>>,
    catch: (e) =>
      isUserError(e)
        ? new UserError({ message: `${file}: ${e.message}`, ...(e.problems !== undefined ? { problems: e.problems } : {}) })
        : new UserError({ message: `${file}: failed to load: ${errorMessage(e)}` })
  }).pipe(
    Effect.timeoutOrElse({
      duration: `${seconds} seconds`,
      orElse: () =>
        fail(
          `${file}: loading did not finish within ${seconds} s (a top-level await that never settles?); ` +
            `set ${loadTimeoutVariable}=<seconds> if the file really needs longer`
        )
    })
  )
}

/** Line and column (1-based) of a character offset. */
const lineCol = (text: string, offset: number): { line: number; col: number } => {
  const before = text.slice(0, offset).split("\n")
  return { line: before.length, col: before.at(-1)!.length + 1 }
}

const parseJson = (file: string, text: string) =>
  Effect.try({
    try: () => JSON.parse(text) as unknown,
    catch: (e) => {
      const msg = errorMessage(e)
      const pos = /position (\d+)/.exec(msg)
      const where = pos !== null ? lineCol(text, Number(pos[1])) : undefined
      return new UserError({
        message: `${file}${where !== undefined ? `:${where.line}:${where.col}` : ""}: invalid JSON: ${msg.replace(/ in JSON at position \d+.*$/, "")}`
      })
    }
  })

const parseYaml = (file: string, text: string) =>
  Effect.suspend(() => {
    const doc = YAML.parseDocument(text)
    const err = doc.errors[0]
    if (err !== undefined) {
      const pos = err.linePos?.[0]
      const first = err.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "")
      return fail(`${file}${pos !== undefined ? `:${pos.line}:${pos.col}` : ""}: invalid YAML: ${first}`)
    }
    return Effect.succeed(doc.toJS() as unknown)
  })

const asPlugins = (file: string, value: unknown): Effect.Effect<ReadonlyArray<AnyPlugin>, UserError> =>
  value === undefined
    ? Effect.succeed([])
    : Array.isArray(value)
    ? Effect.succeed(value as ReadonlyArray<AnyPlugin>)
    : fail(`${file}: "plugins" must be a list of plugin values`)

/** Splits a loaded value into a pipeline or a study, and the plugins it brings. */
const classify = (file: string, value: unknown): Effect.Effect<Loaded, UserError> =>
  Effect.gen(function*() {
    if (isStudy(value)) {
      // every arm's plugins (or the base's), each plugin once
      const lists = yield* Effect.forEach(pipelinesOf(value), (p) => asPlugins(file, (p as { plugins?: unknown } | null)?.plugins))
      const plugins = [...new Set(lists.flat())]
      return { _tag: "Study", file, study: value, plugins } as const
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return yield* fail(`${file}: expected a pipeline object (or a study), got ${value === null ? "null" : Array.isArray(value) ? "a list" : typeof value}`)
    }
    const { plugins, ...pipeline } = value as Record<string, unknown>
    return { _tag: "Pipeline", file, pipeline, plugins: yield* asPlugins(file, plugins) } as const
  })

/** Loads a pipeline file (`.ts`, `.mts`, `.js`, `.mjs`, `.json`, `.yaml`, `.yml`). */
export const loadFile = (file: string): Effect.Effect<Loaded, UserError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const abs = path.resolve(file)
    const exists = yield* fs.exists(abs).pipe(Effect.orElseSucceed(() => false))
    if (!exists) return yield* fail(`${file}: no such file`)
    const ext = path.extname(abs).toLowerCase()
    if ([".ts", ".mts", ".js", ".mjs"].includes(ext)) {
      const mod = yield* importModule(abs)
      if (!("default" in mod) || mod["default"] === undefined) {
        return yield* fail(`${file}: has no default export (export default definePipeline({...}) or study({...}))`)
      }
      return yield* classify(file, mod["default"])
    }
    if (![".json", ".yaml", ".yml"].includes(ext)) {
      return yield* fail(`${file}: unsupported file type "${ext}" (expected .ts, .json, .yaml or .yml)`)
    }
    const text = yield* fs.readFileString(abs).pipe(Effect.mapError((e) => new UserError({ message: `${file}: ${e.message}` })))
    const value = ext === ".json" ? yield* parseJson(file, text) : yield* parseYaml(file, text)
    return yield* classify(file, value)
  })

/** Config file names looked up in the working directory. */
export const configFiles = ["rekindle.config.ts", "rekindle.config.mts", "rekindle.config.js", "rekindle.config.mjs"]

/** Loads `rekindle.config.*` from `dir` if present (its default export is a `Config`). */
export const loadConfig = (dir: string): Effect.Effect<Config, UserError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    for (const name of configFiles) {
      const file = path.join(dir, name)
      if (!(yield* fs.exists(file).pipe(Effect.orElseSucceed(() => false)))) continue
      const mod = yield* importModule(file)
      const config = mod["default"] as { plugins?: unknown } | undefined
      if (typeof config !== "object" || config === null) return yield* fail(`${file}: expected a default export (defineConfig({ plugins: [...] }))`)
      return { plugins: yield* asPlugins(file, config.plugins) }
    }
    return {}
  })
