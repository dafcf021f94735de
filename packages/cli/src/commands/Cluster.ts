/**
 * The cluster side of the CLI: `rekindle worker --db URL` (serves cells, each run as a child
 * `rekindle study run-cell`), `rekindle run <study> --cluster URL` (submits or joins, shows
 * progress, collects) and `rekindle study status <study> --cluster URL`. `@rekindle/cluster` (and
 * the PostgreSQL client) is loaded only by these commands.
 */
import { UserError } from "@rekindle/core/Errors"
import { Console, Effect, Fiber, FileSystem, Option, Path, Schema } from "effect"
import { Command, Flag } from "effect/cli"
import { createHash } from "node:crypto"
import * as os from "node:os"
import type { Cell } from "@rekindle/cluster"
import * as CellProcesses from "../CellProcesses.ts"
import { fileHash } from "../FileHash.ts"
import type * as Cells from "../Cells.ts"
import * as LazyCells from "../LazyCells.ts"
import { cacheFlag, pipelineArg, runsDirFlag, setFlag, threadsFlag } from "./Shared.ts"

/** `@rekindle/cluster`, loaded on demand (the single-machine path never loads it). */
const cluster = Effect.promise(() => import("@rekindle/cluster"))

/** The marker a submitter leaves in its study folder; a worker that cannot see it does not share the runs dir. */
const marker = (studyId: string) => `.rekindle-study-${studyId}`

/** A study's id on a cluster: its name and a hash of the file, the overrides, the cells and the study folder. */
export const studyId = (prepared: Cells.PreparedStudy, cells: ReadonlyArray<Cells.Cell>, fileHash: string, sets: ReadonlyArray<string>, root: string) =>
  `${prepared.study.name}-` +
  createHash("sha256").update(JSON.stringify([fileHash, sets, cells.map((c) => c.pipelineHash), root])).digest("hex").slice(0, 12)

/** The cell references of a study, as a submitter sends them. */
export const refs = (file: string, sets: ReadonlyArray<string>, runsDir: string, prepared: Cells.PreparedStudy, cells: ReadonlyArray<Cells.Cell>) =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    const abs = path.resolve(file)
    const hash = yield* fileHash(abs)
    const root = yield* (yield* LazyCells.cells).studyRoot(runsDir, prepared)
    const id = studyId(prepared, cells, hash, sets, root)
    const out: Array<Cell.CellRef> = cells.map((c) => ({
      studyId: id,
      study: prepared.study.name,
      file: abs,
      fileHash: hash,
      sets: [...sets],
      index: c.index,
      runId: c.runId,
      pipelineHash: c.pipelineHash,
      backend: c.plan.backend.name,
      ...(c.plan.backend.threads !== undefined ? { threads: c.plan.backend.threads } : {}),
      root
    }))
    return { id, root, refs: out }
  })

const dbFlag = (name: string) =>
  Flag.String(name).pipe(Flag.withDescription("PostgreSQL URL of the cluster, e.g. postgres://rekindle:secret@db-host:5432/rekindle"))

const time = () => new Date().toISOString().slice(11, 19)

/**
 * Submits a study to the cluster (or joins it), prints progress until every cell is done, checks
 * that the run folders are visible here and collects the study. Returns the exit code.
 */
export const submitStudy = (
  db: string,
  file: string,
  sets: ReadonlyArray<string>,
  runsDir: string,
  prepared: Cells.PreparedStudy,
  cells: ReadonlyArray<Cells.Cell>
) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const { Database, Submit } = yield* cluster
    yield* Database.parseUrl("--cluster", db)
    yield* Database.check("--cluster", db)
    const { id, root, refs: all } = yield* refs(file, sets, runsDir, prepared, cells)
    yield* fs.makeDirectory(root, { recursive: true }).pipe(
      Effect.andThen(fs.writeFileString(path.join(root, marker(id)), `${id}\n`)),
      Effect.mapError((e) => new UserError({ message: `--out: cannot write the study folder ${root}: ${e.message}` }))
    )
    yield* Console.log(`study ${id}: ${all.length} cells on ${Database.redact(db)}; runs in ${root}`)
    const t0 = Date.now()
    const results = yield* Submit.submit({
      db,
      studyId: id,
      cells: all,
      onSubmitted: Effect.suspend(() =>
        Console.log(`study ${id}: submitted at ${new Date().toISOString().slice(11, 23)}, ${process.uptime().toFixed(1)} s after this process started`)
      ),
      onProgress: (line) => Console.log(`[${time()}] ${line}`)
    })
    yield* Console.log(`study ${id}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
    const failed = results.filter((r) => r.status === "failed")
    for (const r of failed) yield* Console.error(`cell ${r.index} (${r.runId}) failed on ${r.worker}: ${r.error ?? "unknown error"}`)
    // every finished cell's folder must be visible here: the workers' runs dir is this one
    for (const r of results.filter((x) => x.status === "finished")) {
      const here = path.join(root, r.runId)
      if (!(yield* fs.exists(path.join(here, "manifest.json")).pipe(Effect.orElseSucceed(() => false)))) {
        return yield* new UserError({
          message: `cell ${r.index} finished on ${r.worker} in ${r.dir}, but ${here} does not exist here: ` +
            `the workers' --runs-dir and this --out must be the same shared folder`
        })
      }
    }
    yield* (yield* LazyCells.cells).collect(prepared, cells, root)
    return failed.length > 0 ? 1 : 0
  })

/** Runs one cell in a child process (`CellProcesses`); never fails (a failure is a `failed` result). */
const performCell = (o: {
  readonly runsDir: string
  readonly cache: string
  readonly threads: Option.Option<number>
  readonly children: ReturnType<typeof CellProcesses.make>
}) =>
(cell: Cell.CellRef, worker: string): Effect.Effect<Cell.CellResult, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const t0 = Date.now()
    const root = path.resolve(o.runsDir, cell.study)
    const dir = path.join(root, cell.runId)
    const failed = (error: string): Cell.CellResult => ({ index: cell.index, runId: cell.runId, status: "failed", worker, dir, error, ms: Date.now() - t0 })
    if (!(yield* fs.exists(cell.file).pipe(Effect.orElseSucceed(() => false)))) {
      return failed(`the study file ${cell.file} does not exist on worker ${worker} (every machine must see it at the same path)`)
    }
    const hash = yield* fileHash(cell.file).pipe(Effect.orElseSucceed(() => "unreadable"))
    if (hash !== cell.fileHash) {
      return failed(`the study file ${cell.file} on worker ${worker} differs from the submitted one ` +
        `(sha256 ${hash.slice(0, 12)} here, ${cell.fileHash.slice(0, 12)} submitted); make every machine see the same file`)
    }
    if (!(yield* fs.exists(path.join(root, marker(cell.studyId))).pipe(Effect.orElseSucceed(() => false)))) {
      return failed(`runs dir not shared: worker ${worker} writes to ${root}, where the submitter's study folder (${cell.root}) is not visible; ` +
        `point every worker's --runs-dir and the submitter's --out at the same shared folder`)
    }
    const threads = Option.isSome(o.threads) ? o.threads.value : cell.threads
    const args = [
      cell.file, "--index", String(cell.index), "--runs-dir", o.runsDir, "--cache", o.cache,
      "--expect-hash", cell.pipelineHash, "--take-over-lock",
      ...(threads !== undefined ? ["--threads", String(threads)] : []),
      ...cell.sets.flatMap((s) => ["--set", s])
    ]
    const exit = yield* o.children.run(`${cell.file} ${cell.fileHash} ${threads ?? "-"}`, args, `[${worker} cell ${cell.index}] `)
    const report = exit.report
    const timings: Cell.CellTimings = {
      taken: t0,
      ...(report !== undefined ? { childStart: report.timings.start, childEnd: report.timings.end } : {}),
      ...(report?.timings.loaded !== undefined ? { loaded: report.timings.loaded } : {}),
      reported: Date.now()
    }
    const base = { index: cell.index, runId: cell.runId, worker, dir, ms: Date.now() - t0, timings }
    const ended = CellProcesses.verdict(exit)
    if (ended.ok) {
      const loss = ended.report.finalEvalLoss
      yield* Console.log(`[${worker} cell ${cell.index}] reported: ${cell.runId} finished` + (loss !== undefined ? `, final eval loss ${loss.toFixed(4)}` : ""))
      return { ...base, status: "finished", ...(loss !== undefined ? { finalEvalLoss: loss } : {}) } satisfies Cell.CellResult
    }
    return { ...base, status: "failed", error: ended.why } satisfies Cell.CellResult
  })

/** The phases of a recorded cell, one line (seconds): what the worker added around the training. */
const timingLine = (worker: string, cell: Cell.CellRef, r: Cell.CellResult, recorded: number) => {
  const t = r.timings
  if (t === undefined) return Effect.void
  const s = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined ? `${((b - a) / 1000).toFixed(3)} s` : "?")
  return Console.log(
    `[${worker} cell ${cell.index}] timings: taken at ${new Date(t.taken).toISOString().slice(11, 23)}, ` +
      `to the child ${s(t.taken, t.childStart)}, study load ${s(t.childStart, t.loaded)}, cell ${s(t.loaded, t.childEnd)}, ` +
      `result to the worker ${s(t.childEnd, t.reported)}, recorded ${s(t.reported, recorded)}`
  )
}

/** A free TCP port on this machine (the worker's default). */
const freePort = Effect.promise(() =>
  import("node:net").then((net) =>
    new Promise<number>((resolve, reject) => {
      const server = net.createServer()
      server.once("error", reject)
      server.listen(0, () => {
        const port = (server.address() as { port: number }).port
        server.close(() => resolve(port))
      })
    })
  )
)

/** The `worker` command. */
export const worker = Command.make(
  "worker",
  {
    db: dbFlag("db"),
    slots: Flag.Int("slots").pipe(
      Flag.withDescription("Cells run at once on this machine"),
      Flag.withSchema(Schema.Int.pipe(Schema.check(Schema.isGreaterThan(0)))),
      Flag.withDefault(1)
    ),
    runsDir: runsDirFlag,
    threads: threadsFlag,
    cache: cacheFlag,
    name: Flag.String("name").pipe(Flag.withDescription("This worker's name in progress reports (default: host-pid)"), Flag.optional),
    host: Flag.String("host").pipe(
      Flag.withDescription("Address the other cluster members reach this worker at (default: this machine's host name)"),
      Flag.optional
    ),
    port: Flag.Int("port").pipe(Flag.withDescription("TCP port this worker listens on for the cluster (default: a free one)"), Flag.optional)
  },
  Effect.fn("worker")(function*({ db, slots, runsDir, threads, cache, name, host, port }) {
    const { Database, Worker } = yield* cluster
    yield* Database.parseUrl("--db", db)
    const me = Option.getOrElse(name, () => `${os.hostname()}-${process.pid}`)
    const listen = Option.isSome(port) ? port.value : yield* freePort
    const address = Option.getOrElse(host, () => os.hostname())
    const children = CellProcesses.make({ warm: slots })
    const perform = performCell({ runsDir, cache, threads, children })
    const services = yield* Effect.context<FileSystem.FileSystem | Path.Path>()
    // the cell processes load the engine while the worker joins the cluster
    const warming = yield* Effect.forkChild(children.warmUp)
    return yield* Worker.serve({
      db,
      slots,
      name: me,
      host: address,
      port: listen,
      perform: (cell, w) => Effect.provide(perform(cell, w), services),
      onRecorded: (cell, r, at) => timingLine(me, cell, r, at),
      onReady: Effect.andThen(Fiber.join(warming), Console.log(`worker ${me}: ready on ${address}:${listen}, ${slots} slot${slots === 1 ? "" : "s"}, runs in ${runsDir}`)),
    }).pipe(Effect.ensuring(children.shutdown))
  })
).pipe(Command.withDescription("Serve study cells from a cluster (PostgreSQL): each cell runs as a child process"))

/** `rekindle study status <study> --cluster URL`. */
export const status = Command.make(
  "status",
  { study: pipelineArg, cluster: dbFlag("cluster"), set: setFlag, out: Flag.String("out").pipe(Flag.withDescription("Root folder of runs, as given to `rekindle run`"), Flag.withDefault("runs")) },
  Effect.fn("study.status")(function*({ study, cluster: db, set, out }) {
    const { Database, Progress, Submit } = yield* cluster
    yield* Database.parseUrl("--cluster", db)
    const { prepared, cells } = yield* (yield* LazyCells.cells).load(study, set)
    const { id } = yield* refs(study, set, out, prepared, cells)
    const state = yield* Submit.status(db, id)
    if (state === undefined) {
      yield* Console.log(`study ${id}: not submitted to ${Database.redact(db)} (rekindle run ${study} --cluster URL submits it)`)
      return
    }
    yield* Console.log(`study ${id}: ${Progress.line(state.summary)}`)
    for (const c of state.cells) {
      yield* Console.log(
        `${String(c.index).padStart(5)}  ${c.runId}  ${c.status}` +
          (c.worker !== null ? ` on ${c.worker}` : "") +
          (c.attempts > 1 ? ` (attempt ${c.attempts})` : "") +
          (c.startedAt !== null ? ` from ${c.startedAt.toISOString().slice(11, 23)}` : "") +
          (c.startedAt !== null && c.finishedAt !== null ? ` for ${((c.finishedAt.getTime() - c.startedAt.getTime()) / 1000).toFixed(3)} s` : "") +
          (c.error !== null ? `: ${c.error.split("\n")[0]}` : "")
      )
    }
  })
).pipe(Command.withDescription("A study's progress on a cluster, without submitting it"))
