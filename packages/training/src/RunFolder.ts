/**
 * Run folders: `runs/<name>-<hash>/` where the hash is of the resolved pipeline, so the same
 * pipeline lands in the same folder. Holds `pipeline.json`, `manifest.json` and `events.jsonl`.
 * JSON files are written atomically (temporary file, then rename).
 */
import { createHash } from "node:crypto"
import { Effect, FileSystem, Path } from "effect"

/** JSON with object keys sorted at every level (stable across key order). */
export const stableStringify = (value: unknown): string =>
  JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v)

/** Short content hash (first 8 hex digits of SHA-256 of the stable JSON). */
export const hashOf = (value: unknown): string => createHash("sha256").update(stableStringify(value)).digest("hex").slice(0, 8)

/** Folder name of a run: `<name>-<hash>`. */
export const folderName = (name: string, resolved: unknown): string => `${name}-${hashOf(resolved)}`

/** Writes JSON atomically: to `<file>.tmp-<pid>`, then renamed over `file`. */
export const writeJsonAtomic = (file: string, value: unknown) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const tmp = `${file}.tmp-${process.pid}`
    yield* fs.writeFileString(tmp, JSON.stringify(value, null, 2) + "\n")
    yield* fs.rename(tmp, file)
  })

/** What `manifest.json` records about a run. */
export interface Manifest {
  readonly name: string
  readonly pipelineHash: string
  readonly seed: number
  readonly status: "running" | "finished" | "failed"
  readonly startedAt: string
  readonly endedAt?: string
  readonly steps: number
  readonly stepsDone: number
  readonly backend?: { readonly name: string; readonly threads: number; readonly simd: boolean }
  readonly versions: Readonly<Record<string, string>>
  readonly node: string
  readonly git?: string
  readonly error?: string
}

/** Reads the manifest of a run folder, if any. */
export const readManifest = (dir: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const file = path.join(dir, "manifest.json")
    if (!(yield* fs.exists(file))) return undefined
    return JSON.parse(yield* fs.readFileString(file)) as Manifest
  })
