/**
 * Run folders: `runs/<name>-<hash>/` where the hash is of the resolved pipeline, so the same
 * pipeline lands in the same folder. Holds `pipeline.json`, `manifest.json` and `events.jsonl`.
 * JSON files are written atomically (temporary file, fsync, rename, fsync of the folder).
 */
import { createHash } from "node:crypto"
import { Effect, FileSystem, Path, Schema, SchemaIssue } from "effect"
import { formatProblems, UserError } from "@rekindle/core/Errors"
import * as Files from "@rekindle/core/Files"

/** JSON with object keys sorted at every level (stable across key order). */
export const stableStringify = (value: unknown): string =>
  JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v)

/** Short content hash (first 8 hex digits of SHA-256 of the stable JSON). */
export const hashOf = (value: unknown): string => createHash("sha256").update(stableStringify(value)).digest("hex").slice(0, 8)

/** Folder name (run id) of a run: `<name>-<hash>`, the hash being `hashOf` its resolved pipeline. */
export const folderName = (name: string, pipelineHash: string): string => `${name}-${pipelineHash}`

/** Writes JSON atomically and durably: to `<file>.tmp-<pid>`, fsync, renamed over `file`, fsync of the folder. */
export const writeJsonAtomic = (file: string, value: unknown) => Files.writeTextAtomic(file, JSON.stringify(value, null, 2) + "\n")

const Exit = Schema.Struct({ status: Schema.Literals(["finished", "failed", "interrupted"]), code: Schema.Number })

const Blas = Schema.Struct({
  requested: Schema.String,
  library: Schema.String,
  path: Schema.optionalKey(Schema.String),
  version: Schema.optionalKey(Schema.String),
  coreType: Schema.optionalKey(Schema.String),
  threads: Schema.optionalKey(Schema.Number),
  reason: Schema.String
})

/**
 * What `manifest.json` records about a run, as a Schema: `readManifest` and `Resume.readRun`
 * decode every manifest they read with it, so a corrupt one is a `UserError` naming the field.
 * Optional fields are those that older runs, or runs that have not ended, lack.
 */
export const Manifest = Schema.Struct({
  name: Schema.String,
  pipelineHash: Schema.String,
  seed: Schema.Number,
  /** `running` also marks a run killed without warning (its lock is then stale); `interrupted` = SIGINT/SIGTERM. */
  status: Schema.Literals(["running", "finished", "failed", "interrupted"]),
  startedAt: Schema.String,
  endedAt: Schema.optionalKey(Schema.String),
  steps: Schema.Number,
  stepsDone: Schema.Number,
  backend: Schema.optionalKey(Schema.Struct({
    name: Schema.String,
    threads: Schema.Number,
    simd: Schema.Boolean,
    overrides: Schema.optionalKey(Schema.Boolean),
    /** The native BLAS under the wasm matrix products (absent in runs before it existed: XNNPACK). */
    blas: Schema.optionalKey(Blas)
  })),
  versions: Schema.Record(Schema.String, Schema.String),
  node: Schema.String,
  git: Schema.optionalKey(Schema.String),
  /** Whether the git working tree had uncommitted changes to tracked files. */
  gitDirty: Schema.optionalKey(Schema.Boolean),
  error: Schema.optionalKey(Schema.String),
  /** The resolved pipeline (also in pipeline.json). */
  pipeline: Schema.optionalKey(Schema.Unknown),
  /** The pipeline file the run came from. */
  source: Schema.optionalKey(Schema.String),
  platform: Schema.optionalKey(Schema.Struct({ os: Schema.String, arch: Schema.String, cpus: Schema.Number, host: Schema.String })),
  /** How the run ended and the exit code the CLI returned. */
  exit: Schema.optionalKey(Exit),
  /** The newest complete checkpoint (path relative to the run folder). */
  checkpoint: Schema.optionalKey(Schema.Struct({ step: Schema.Number, file: Schema.String })),
  /** Every resume of this run: when, and from which checkpoint step. */
  resumes: Schema.optionalKey(Schema.Array(Schema.Struct({ at: Schema.String, fromStep: Schema.Number }))),
  /** Failures that did not stop the run: a sink dropped after it failed (report.html on a full disk). */
  warnings: Schema.optionalKey(Schema.Array(Schema.String))
})

/** What `manifest.json` records about a run. */
export type Manifest = typeof Manifest.Type

/**
 * Decodes a parsed `manifest.json` (`file` names it in errors): a `UserError` listing each field
 * that is missing or wrong, by its path (`backend.threads: Expected number, got "2"`).
 */
export const decodeManifest = (file: string, json: unknown): Effect.Effect<Manifest, UserError> =>
  Schema.decodeUnknownEffect(Manifest)(json, { errors: "all", reportInput: true }).pipe(
    Effect.mapError((e) => {
      const problems = SchemaIssue.makeFormatterStandardSchemaV1()(e.issue).issues.map((i) => ({
        path: (i.path ?? []).map(String).join("."),
        message: i.message
      }))
      return new UserError({
        message: `${file}: not a valid rekindle manifest: ${formatProblems(problems, "; ")}`,
        problems: problems.map((p) => ({ path: p.path === "" ? file : `${file}#${p.path}`, message: p.message }))
      })
    })
  )

/** Reads and decodes the manifest of a run folder, if it has one; a corrupt one is a `UserError`. */
export const readManifest = (dir: string): Effect.Effect<Manifest | undefined, UserError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const file = path.join(dir, "manifest.json")
    const cannotRead = (e: unknown) => new UserError({ message: `cannot read ${file}: ${Files.describe(e)}` })
    if (!(yield* fs.exists(file).pipe(Effect.mapError(cannotRead)))) return undefined
    const text = yield* fs.readFileString(file).pipe(Effect.mapError(cannotRead))
    const json = yield* Effect.try({
      try: () => JSON.parse(text) as unknown,
      catch: (e) => new UserError({ message: `${file}: not valid JSON (${e instanceof Error ? e.message : String(e)})` })
    })
    return yield* decodeManifest(file, json)
  })

/** Whether `dir` holds a finished run (a manifest with status `finished`; an unreadable or corrupt one is not). */
export const isFinished = (dir: string): Effect.Effect<boolean, never, FileSystem.FileSystem | Path.Path> =>
  readManifest(dir).pipe(
    Effect.map((m) => m?.status === "finished"),
    Effect.orElseSucceed(() => false)
  )
