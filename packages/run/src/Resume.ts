/**
 * What happens to a run folder that already exists, and resuming.
 *
 * `claim` inspects a run folder before anything is loaded or written and decides, under the
 * folder's lock, whether the run starts fresh, replaces an old run, or resumes from its newest
 * usable checkpoint. The rule (`Existing`):
 *
 * - a folder locked by a live process is always refused (exit 2, naming the pid);
 * - `refuse` (the default of `rekindle run`): a finished run is refused (the CLI reports it as
 *   already done and suggests `--force`); an unfinished run with a usable checkpoint is refused
 *   (suggesting `rekindle resume` or `--force`); an unfinished run without one is replaced;
 * - `replace` (`--force`): the old folder is moved aside atomically and deleted;
 * - `resume` (`rekindle resume`): continue from the newest usable checkpoint, or fail;
 * - `continue` (studies): resume when there is a usable checkpoint, else replace.
 *
 * A checkpoint is usable when it reads and verifies, belongs to this pipeline and seed, and the
 * events files cover it: they hold at least the lines it was written after, and each of those
 * lines is an event. So an events file cut between two checkpoints falls back to the older one,
 * and a garbage line falls back to a checkpoint written before it (a garbage line after the
 * chosen checkpoint is reported and cut).
 *
 * `materialize` then makes it so: creates the folder (exclusively) and takes its lock, or swaps
 * the old folder out, or cuts `events.jsonl` back to the checkpoint (the cut lines, including a
 * torn last line, are kept in `events.jsonl.cut`).
 */
import { Event, Files, Folders, UserError } from "@rekindle/core"
import { Effect, FileSystem, Path, type Scope } from "effect"
import * as Checkpoint from "./Checkpoint.ts"
import { splitLines } from "./Determinism.ts"
import * as Lock from "./Lock.ts"
import { decodeManifest, type Manifest, readManifest } from "./RunFolder.ts"

/** What to do with a run folder that already holds a run (see the module comment). */
export type Existing = "refuse" | "replace" | "resume" | "continue"

/** The decision for a run folder. */
export type Claim =
  | { readonly _tag: "Fresh"; readonly dir: string }
  | { readonly _tag: "Replace"; readonly dir: string; readonly previous: Manifest | undefined }
  | {
    readonly _tag: "Resume"
    readonly dir: string
    readonly checkpoint: Checkpoint.Loaded
    /** Newer checkpoints that could not be used, and why. */
    readonly skipped: ReadonlyArray<{ readonly file: string; readonly problem: string }>
    /** Lines of the events files that are not events but lie after the checkpoint (they are cut). */
    readonly badLines: ReadonlyArray<BadLine>
    readonly previous: Manifest | undefined
  }

/** Identity of the run being started, to match checkpoints against. */
export interface Identity {
  readonly seed: number
  readonly pipelineHash: string
  /** The pipeline's `train.checkpointEvery`, for saying why a run has no checkpoint. */
  readonly checkpointEvery?: number
  /** The run's events files (relative to the folder): a checkpoint is usable only if they cover it. */
  readonly eventFiles?: ReadonlyArray<string>
}

const userError = (message: string) => new UserError({ message })

/** Why a run folder holds no checkpoint, from the pipeline's real `train.checkpointEvery`. */
const noCheckpointReason = (every: number | undefined, stepsDone: number | undefined): string =>
  every === undefined
    ? "the run wrote none"
    : every === 0
    ? "the run wrote none: checkpoints are off (train.checkpointEvery is 0)"
    : `the run wrote none: train.checkpointEvery is ${every}, and the run stopped after ${stepsDone ?? "fewer than that many"} step${stepsDone === 1 ? "" : "s"}` +
      `${stepsDone !== undefined && stepsDone >= every ? " (its checkpoint writes failed)" : ", before the first was due"}`

const listSkipped = (skipped: ReadonlyArray<{ readonly file: string; readonly problem: string }>) =>
  skipped.length === 0 ? "" : "\n" + skipped.map((s) => `  skipped ${s.file}: ${s.problem}`).join("\n")

/** Decides what to do with `dir` (see `Existing`); holds the folder's lock (in the scope) when it exists. */
export const claim = (
  dir: string,
  run: Identity,
  existing: Existing,
  command = "rekindle"
): Effect.Effect<Claim, UserError, FileSystem.FileSystem | Path.Path | Scope.Scope> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const info = yield* fs.stat(dir).pipe(Effect.option)
    if (info._tag === "None") {
      if (existing === "resume") return yield* userError(`${dir}: no such run folder`)
      // refused before anything loads (Node's recursive mkdir would spin forever under /proc)
      const pseudo = Folders.pseudoFilesystemOf(dir)
      if (pseudo !== undefined) return yield* userError(`--out: ${dir} is on a ${pseudo} pseudo-file system that cannot hold files; choose a folder on a disk`)
      return { _tag: "Fresh", dir } as const
    }
    if (info.value.type !== "Directory") return yield* userError(`${dir}: exists and is not a folder`)
    yield* Lock.acquire(dir, command)
    // a corrupt manifest is the user's to look at, unless the old run is being replaced anyway
    const previous = yield* existing === "replace" ? readManifest(dir).pipe(Effect.orElseSucceed(() => undefined)) : readManifest(dir)
    if (existing === "replace") return { _tag: "Replace", dir, previous } as const
    const events = yield* Effect.forEach(run.eventFiles ?? [], (f) => readEventLines(dir, f))
    const accept = (c: Checkpoint.Loaded) =>
      c.state.seed !== run.seed
        ? `its seed ${c.state.seed} is not the pipeline's ${run.seed}`
        : c.state.pipelineHash !== run.pipelineHash
        ? `it belongs to pipeline ${c.state.pipelineHash}, not ${run.pipelineHash}`
        : uncovered(events, c.state.events)
    if (previous?.status === "finished") {
      return yield* userError(
        existing === "refuse"
          ? `${dir} already holds a finished run of this pipeline (finished ${previous.endedAt ?? "earlier"}); ` +
            `pass --force to run it again from scratch, or \`rekindle reproduce ${dir}\` to check that it reproduces`
          : `${dir} holds a finished run; there is nothing to resume`
      )
    }
    const latest = yield* Checkpoint.latest(dir, accept)
    if (latest.checkpoint !== undefined) {
      if (existing === "refuse") {
        return yield* userError(
          `${dir} holds an unfinished run (${previous?.status ?? "no manifest"}, ${previous?.stepsDone ?? "?"} steps done, ` +
            `checkpoint after step ${latest.checkpoint.state.step}); continue it with \`rekindle resume ${dir}\`, ` +
            `or pass --force to start over`
        )
      }
      const covered = latest.checkpoint.state.events
      const badLines = events.flatMap((e) => (e.bad !== undefined && e.bad.line > covered ? [e.bad] : []))
      return { _tag: "Resume", dir, checkpoint: latest.checkpoint, skipped: latest.skipped, badLines, previous } as const
    }
    if (existing === "resume") {
      return yield* userError(
        `${dir}: no usable checkpoint to resume from` +
          (latest.skipped.length === 0 ? ` (${noCheckpointReason(run.checkpointEvery, previous?.stepsDone)})` : "") +
          listSkipped(latest.skipped)
      )
    }
    return { _tag: "Replace", dir, previous } as const
  })

const cannot = (what: string, e: unknown) => userError(`${what}: ${Files.describe(e)}`)

/** A line of an events file that is not an event. */
export interface BadLine {
  readonly file: string
  /** 1-based line number. */
  readonly line: number
  readonly problem: string
}

/** An events file as resume sees it: its complete lines, and the first one that is not an event. */
interface EventLines {
  readonly file: string
  readonly lines: number
  readonly bad: BadLine | undefined
}

const readEventLines = (dir: string, name: string): Effect.Effect<EventLines, UserError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const file = path.join(dir, name)
    if (!(yield* fs.exists(file).pipe(Effect.orElseSucceed(() => false)))) return { file: name, lines: 0, bad: undefined }
    const bytes = yield* fs.readFile(file).pipe(Effect.mapError((e) => cannot(`cannot read ${file}`, e)))
    const { lines } = splitLines(bytes)
    let bad: BadLine | undefined
    for (let i = 0; i < lines.length && bad === undefined; i++) {
      try {
        Event.decodeLine(lines[i]!)
      } catch (e) {
        const problem = e instanceof Error ? e.message.split("\n")[0]! : String(e)
        bad = { file: name, line: i + 1, problem: `not an event (${problem}): ${JSON.stringify(lines[i]!.slice(0, 60))}` }
      }
    }
    return { file: name, lines: lines.length, bad }
  })

/** Why the events files do not cover a checkpoint written after line `covered`, or undefined when they do. */
const uncovered = (files: ReadonlyArray<EventLines>, covered: number): string | undefined => {
  for (const f of files) {
    if (f.lines < covered) {
      return `${f.file} holds ${f.lines} complete lines but this checkpoint was written after line ${covered} (the file was cut or lost data)`
    }
    if (f.bad !== undefined && f.bad.line <= covered) return `line ${f.bad.line} of ${f.file}, which this checkpoint covers, is ${f.bad.problem}`
  }
  return undefined
}

/** Byte offset just after the `n`-th newline (0 for n = 0), or undefined when there are fewer. */
const afterLine = (bytes: Uint8Array, n: number): number | undefined => {
  let at = 0
  for (let i = 0; i < n; i++) {
    const nl = bytes.indexOf(0x0a, at)
    if (nl < 0) return undefined
    at = nl + 1
  }
  return at
}

/**
 * Cuts an events file back to its first `keep` lines (the lines written before a checkpoint),
 * appending what it cuts to `<file>.cut`. A torn last line is always cut. Fails when the file
 * holds fewer than `keep` complete lines (it lost data the checkpoint relies on).
 */
export const truncateEvents = (file: string, keep: number, step: number) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const bytes = yield* fs.readFile(file).pipe(
      Effect.catch((e) =>
        e.reason._tag === "NotFound" && keep === 0 ? Effect.succeed(new Uint8Array()) : Effect.fail(cannot(`cannot read ${file}`, e))
      )
    )
    const offset = afterLine(bytes, keep)
    if (offset === undefined) {
      const complete = splitLines(bytes).lines.length
      return yield* userError(
        `${file} holds ${complete} complete lines, but the checkpoint after step ${step} was written after line ${keep}; ` +
          `the events file lost data, so the run cannot continue from this checkpoint`
      )
    }
    if (offset === bytes.length) return { cutBytes: 0 }
    const cut = bytes.subarray(offset)
    const tail = cut[cut.length - 1] === 0x0a ? cut : Uint8Array.from([...cut, 0x0a])
    yield* Effect.scoped(Effect.gen(function*() {
      const h = yield* fs.open(`${file}.cut`, { flag: "a" })
      yield* h.writeAll(tail)
      yield* h.sync
    })).pipe(Effect.mapError((e) => cannot(`cannot save the cut events to ${file}.cut`, e)))
    yield* Effect.scoped(Effect.gen(function*() {
      const h = yield* fs.open(file, { flag: "r+" })
      yield* h.truncate(offset)
      yield* h.sync
    })).pipe(Effect.mapError((e) => cannot(`cannot cut ${file}`, e)))
    return { cutBytes: cut.length }
  })

/**
 * Makes a claim real: creates a fresh folder and locks it, swaps an old folder out for a new
 * locked one, or (resume) cuts the events files back to the checkpoint. `eventFiles` are paths
 * relative to the run folder.
 */
export const materialize = (c: Claim, eventFiles: ReadonlyArray<string>, command = "rekindle") =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const parent = path.dirname(c.dir)
    if (c._tag === "Resume") {
      for (const f of eventFiles) yield* truncateEvents(path.join(c.dir, f), c.checkpoint.state.events, c.checkpoint.state.step)
      return
    }
    yield* Folders.make(parent, "--out")
    let trash: string | undefined
    if (c._tag === "Replace") {
      trash = path.join(parent, `.${path.basename(c.dir)}.replaced-${process.pid}-${Date.now()}`)
      yield* fs.rename(c.dir, trash).pipe(Effect.mapError((e) => cannot(`cannot move the old run folder ${c.dir} aside`, e)))
    }
    yield* fs.makeDirectory(c.dir).pipe(
      Effect.mapError((e) =>
        e.reason._tag === "AlreadyExists"
          ? userError(`${c.dir} was created by another process meanwhile; try again`)
          : cannot(`cannot create the run folder ${c.dir}`, e)
      )
    )
    // a lock that cannot be written (a full disk) leaves no folder behind: a re-run can start at once
    yield* Lock.acquire(c.dir, command).pipe(
      Effect.tapError(() =>
        fs.remove(c.dir, { recursive: true }).pipe(
          Effect.andThen(trash !== undefined ? fs.rename(trash, c.dir) : Effect.void),
          Effect.ignore
        )
      )
    )
    if (trash !== undefined) yield* fs.remove(trash, { recursive: true }).pipe(Effect.ignore)
  })

/** A run folder's saved pipeline and manifest (for `resume` and `reproduce`). */
export interface SavedRun {
  readonly dir: string
  readonly pipeline: Record<string, unknown>
  readonly manifest: Manifest
}

/** Reads `pipeline.json` and `manifest.json` of a run folder; a UserError says what is missing. */
export const readRun = (dir: string): Effect.Effect<SavedRun, UserError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const abs = path.resolve(dir)
    const info = yield* fs.stat(abs).pipe(Effect.mapError(() => userError(`${dir}: no such run folder`)))
    if (info.type !== "Directory") return yield* userError(`${dir}: not a folder`)
    const readJson = (name: string) =>
      Effect.gen(function*() {
        const file = path.join(abs, name)
        const text = yield* fs.readFileString(file).pipe(
          Effect.mapError((e) => userError(`${dir}: not a run folder (cannot read ${name}: ${Files.describe(e)})`))
        )
        const value = yield* Effect.try({
          try: () => JSON.parse(text) as unknown,
          catch: () => userError(`${file}: not valid JSON`)
        })
        if (typeof value !== "object" || value === null || Array.isArray(value)) return yield* userError(`${file}: expected a JSON object`)
        return value as Record<string, unknown>
      })
    const pipeline = yield* readJson("pipeline.json")
    const manifest = yield* decodeManifest(path.join(abs, "manifest.json"), yield* readJson("manifest.json"))
    return { dir: abs, pipeline, manifest }
  })

/** The events files a resolved pipeline writes (its `log/jsonl` sinks' `file` options), relative to the run folder. */
export const eventFiles = (resolved: unknown): Array<string> => {
  const log = (resolved as { log?: unknown } | undefined)?.log
  if (!Array.isArray(log)) return []
  return log.flatMap((s) => {
    const r = s as { use?: unknown; file?: unknown }
    return r.use === "log/jsonl" ? [typeof r.file === "string" ? r.file : "events.jsonl"] : []
  })
}
