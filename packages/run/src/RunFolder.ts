/**
 * Run folders: `runs/<name>-<hash>/` where the hash is of the resolved pipeline, so the same
 * pipeline lands in the same folder. Holds `pipeline.json`, `manifest.json` and `events.jsonl`.
 * JSON files are written atomically (temporary file, fsync, rename, fsync of the folder).
 */
import type { BlasInfo } from "@rekindle/core"
import { createHash } from "node:crypto"
import { Effect, FileSystem, Path } from "effect"
import * as Files from "@rekindle/core/Files"

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

/** Writes JSON atomically and durably: to `<file>.tmp-<pid>`, fsync, renamed over `file`, fsync of the folder. */
export const writeJsonAtomic = (file: string, value: unknown) => Files.writeTextAtomic(file, JSON.stringify(value, null, 2) + "\n")

/** What `manifest.json` records about a run. */
export interface Manifest {
  readonly name: string
  readonly pipelineHash: string
  readonly seed: number
  /** `running` also marks a run killed without warning (its lock is then stale); `interrupted` = SIGINT/SIGTERM. */
  readonly status: "running" | "finished" | "failed" | "interrupted"
  readonly startedAt: string
  readonly endedAt?: string
  readonly steps: number
  readonly stepsDone: number
  readonly backend?: {
    readonly name: string
    readonly threads: number
    readonly simd: boolean
    readonly overrides?: boolean
    /** The native BLAS under the wasm matrix products (absent in runs before it existed: XNNPACK). */
    readonly blas?: BlasInfo
  }
  readonly versions: Readonly<Record<string, string>>
  readonly node: string
  readonly git?: string
  /** Whether the git working tree had uncommitted changes to tracked files. */
  readonly gitDirty?: boolean
  readonly error?: string
  /** The resolved pipeline (also in pipeline.json). */
  readonly pipeline?: unknown
  /** The pipeline file the run came from. */
  readonly source?: string
  readonly platform?: { readonly os: string; readonly arch: string; readonly cpus: number; readonly host: string }
  /** How the run ended and the exit code the CLI returned. */
  readonly exit?: { readonly status: "finished" | "failed" | "interrupted"; readonly code: number }
  /** The newest complete checkpoint (path relative to the run folder). */
  readonly checkpoint?: { readonly step: number; readonly file: string }
  /** Every resume of this run: when, and from which checkpoint step. */
  readonly resumes?: ReadonlyArray<{ readonly at: string; readonly fromStep: number }>
  /** Failures that did not stop the run: a sink dropped after it failed (report.html on a full disk). */
  readonly warnings?: ReadonlyArray<string>
}

/** Reads the manifest of a run folder, if any. */
export const readManifest = (dir: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const file = path.join(dir, "manifest.json")
    if (!(yield* fs.exists(file))) return undefined
    const text = yield* fs.readFileString(file)
    return yield* Effect.try({
      try: () => JSON.parse(text) as Manifest,
      catch: (e) => new Error(`${file}: not valid JSON (${e instanceof Error ? e.message : String(e)})`)
    })
  })
