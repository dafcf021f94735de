/**
 * The distributed-study benchmark (not a test): an 8-cell tiny study run by one process in
 * sequence against the same study on two local workers (one slot, one backend thread each) on a
 * private PostgreSQL. Prints the wall times, the speedup, the CPU time each side used (its
 * processes and PostgreSQL; other jobs on the machine are not counted), the load average, the
 * dispatch overhead per cell (submit or previous cell → child start; child done → result
 * recorded) from the workers' timing lines, and where the submitter's own time went. It also
 * measures the host's own cap on a 2-way speedup: how much slower two CPU-bound processes run side
 * by side than one alone (k; on "2-core" VMs whose vCPUs share a physical core k > 1, and no
 * scheduler can pass 2 ÷ k).
 *
 *   npm run bench:distributed [-- --steps 1000 --backend wasm]
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { run, start, stop, tinyStudy, worker } from "./harness.ts"
import * as Postgres from "./postgres.ts"

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? process.argv[i + 1]! : fallback
}
const steps = Number(arg("steps", "1000"))
const backend = arg("backend", "wasm")
const ticks = 100 // USER_HZ on Linux

/** CPU seconds of a process (user + system, its own and its reaped children's). */
const procCpu = (pid: number | "self"): number => {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / ticks
  } catch {
    return 0
  }
}
/** CPU seconds of a live process and all its descendants. */
const treeCpu = (pid: number): number => {
  let kids: Array<number> = []
  try {
    kids = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter((x) => x !== "").map(Number)
  } catch {
    kids = []
  }
  return procCpu(pid) + kids.reduce((a, k) => a + treeCpu(k), 0)
}
/** CPU seconds of a PostgreSQL server: the postmaster and its (live and exited) backends. */
const pgCpu = (dir: string) => treeCpu(Number(fs.readFileSync(path.join(dir, "data", "postmaster.pid"), "utf8").split("\n")[0]))
/** CPU seconds of this process's exited children so far. */
const childrenCpu = () => {
  const stat = fs.readFileSync("/proc/self/stat", "utf8")
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  return (Number(f[13]) + Number(f[14])) / ticks
}
const load = () => os.loadavg().map((x) => x.toFixed(1)).join(" ")
const secs = (t0: number) => (Date.now() - t0) / 1000

/** A time of day `HH:MM:SS.mmm` (UTC) printed today, as epoch ms (near `near`). */
const clock = (hms: string, near: number): number => {
  const [h, m, s] = hms.split(":").map(Number)
  const day = new Date(near)
  day.setUTCHours(0, 0, 0, 0)
  let t = day.getTime() + ((h! * 60 + m!) * 60 + s!) * 1000
  if (t - near > 12 * 3600_000) t -= 24 * 3600_000
  if (near - t > 12 * 3600_000) t += 24 * 3600_000
  return t
}

/** Wall seconds of `n` copies of a fixed integer busy loop started together (each its own process). */
const busyLoops = (n: number): Promise<Array<number>> => {
  const loop = "const t=process.hrtime.bigint();let x=0;for(let i=0;i<4e8;i++)x=(x+i)|0;" +
    "process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e9+(x===7?1e-9:0)))"
  return Promise.all(Array.from({ length: n }, () =>
    new Promise<number>((resolve, reject) => {
      const child = spawn(process.execPath, ["-e", loop], { stdio: ["ignore", "pipe", "inherit"] })
      let out = ""
      child.stdout.on("data", (d) => (out += String(d)))
      child.on("error", reject)
      child.on("close", () => resolve(Number(out)))
    })
  ))
}
/** k: mean wall of two busy loops side by side over the best of one alone (best of 3 rounds each). */
const sideBySide = async (): Promise<{ alone: number; together: number; k: number }> => {
  let alone = Infinity
  let together = Infinity
  for (let r = 0; r < 3; r++) {
    alone = Math.min(alone, (await busyLoops(1))[0]!)
    const two = await busyLoops(2)
    together = Math.min(together, (two[0]! + two[1]!) / 2)
  }
  return { alone, together, k: together / alone }
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-bench-distributed-"))
const cache = path.join(root, "cache")
const file = tinyStudy(path.join(root, "project"), {
  name: "bench8",
  steps,
  checkpointEvery: 100,
  lrs: [0.01, 0.02, 0.03, 0.04],
  seeds: [1, 2],
  backend: { name: backend, threads: 1 }
})
const cells = 8
const pg = await Postgres.start()
try {
  // warm the tokenizer cache so neither side pays for it
  await run(["study", "run-cell", file, "--index", "0", "--runs-dir", path.join(root, "warm"), "--cache", cache])
  let t0 = Date.now()
  const noop = await run(["study", "run-cell", file, "--index", "0", "--runs-dir", path.join(root, "warm"), "--cache", cache])
  const noopSecs = secs(t0)
  if (noop.code !== 0) throw new Error(noop.out)

  const host = await sideBySide()
  const loadSeq = load()
  let c0 = childrenCpu()
  t0 = Date.now()
  const seq = await run(["run", file, "--out", path.join(root, "seq"), "--cache", cache])
  const seqSecs = secs(t0)
  const seqCpu = childrenCpu() - c0
  if (seq.code !== 0) throw new Error(seq.out)

  const runs = path.join(root, "cluster")
  t0 = Date.now()
  const workers = await Promise.all([worker(pg.url, "b1", runs, cache), worker(pg.url, "b2", runs, cache)])
  const workerStartSecs = secs(t0)
  const workerStartCpu = workers.reduce((a, w) => a + treeCpu(w.child.pid!), 0)
  const workerOwn0 = workers.reduce((a, w) => a + procCpu(w.child.pid!), 0)
  const pg0 = pgCpu(pg.dir)
  const loadCluster = load()
  c0 = childrenCpu()
  t0 = Date.now()
  const submitter = start(["run", file, "--out", runs, "--cluster", pg.url, "--cache", cache])
  const { code } = await submitter.exited
  const tEnd = Date.now()
  const clusterSecs = (tEnd - t0) / 1000
  const submitterCpu = childrenCpu() - c0
  const workerCpu = workers.reduce((a, w) => a + treeCpu(w.child.pid!), 0) - workerStartCpu
  const workerOwnCpu = workers.reduce((a, w) => a + procCpu(w.child.pid!), 0) - workerOwn0
  const postgresCpu = pgCpu(pg.dir) - pg0
  const outputs = workers.map((w) => w.output())
  for (const w of workers) await stop(w)
  if (code !== 0) throw new Error(submitter.output())

  // the workers' per-cell timing lines
  const rows = outputs.flatMap((out, wi) =>
    [...out.matchAll(/cell (\d+)\] timings: taken at (\S+), to the child ([\d.]+) s, study load ([\d.]+) s, cell ([\d.]+) s, result to the worker ([\d.]+) s, recorded ([\d.]+) s/g)]
      .map((m) => {
        const taken = clock(m[2]!, t0)
        const [toChild, studyLoad, cell, toWorker, recorded] = [m[3], m[4], m[5], m[6], m[7]].map((x) => Number(x) * 1000) as [number, number, number, number, number]
        const childStart = taken + toChild
        const childEnd = childStart + studyLoad + cell
        return { worker: wi, index: Number(m[1]), taken, childStart, childEnd, recordedAt: childEnd + toWorker + recorded, studyLoad, cell }
      }))
  if (rows.length !== cells) throw new Error(`expected ${cells} timing lines, got ${rows.length}:\n${outputs.join("\n")}`)
  const submitted = clock(/submitted at (\S+),/.exec(submitter.output())![1]!, t0)
  const submitterStart = Number(/, ([\d.]+) s after this process started/.exec(submitter.output())![1]!)
  // submit (a worker's first cell) or the previous cell recorded (later ones) → the child starts the cell
  const dispatch = rows.map((r) => {
    const before = rows.filter((o) => o.worker === r.worker && o.taken < r.taken).map((o) => o.recordedAt)
    return { first: before.length === 0, secs: (r.childStart - (before.length > 0 ? Math.max(...before) : submitted)) / 1000 }
  })
  const back = rows.map((r) => (r.recordedAt - r.childEnd) / 1000)
  const mean = (xs: ReadonlyArray<number>) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)
  const stat = (xs: ReadonlyArray<number>) => `mean ${mean(xs).toFixed(3)} s, max ${Math.max(...xs).toFixed(3)} s`
  const lastRecorded = Math.max(...rows.map((r) => r.recordedAt))
  const clusterTotalCpu = submitterCpu + workerCpu + postgresCpu

  const f = (x: number) => `${x.toFixed(1)} s`
  console.log(`8-cell tiny study, ${steps} steps per cell, backend ${backend} with 1 thread, ${os.cpus().length} cores`)
  console.log(`one process in sequence:        ${f(seqSecs)} wall, ${f(seqCpu)} CPU (load average before: ${loadSeq})`)
  console.log(`two workers (1 slot each):      ${f(clusterSecs)} wall, ${f(clusterTotalCpu)} CPU = submitter ${f(submitterCpu)} + workers ${f(workerOwnCpu)} + cell processes ${f(workerCpu - workerOwnCpu)} + PostgreSQL ${f(postgresCpu)} (load average before: ${loadCluster})`)
  console.log(`speedup:                        ${(seqSecs / clusterSecs).toFixed(2)}x wall, ${(seqCpu / clusterTotalCpu).toFixed(2)}x CPU (sequential CPU / cluster CPU; 1.00 = no CPU spent on distribution)`)
  console.log(`host's 2-way cap:               two CPU-bound processes side by side ${host.together.toFixed(2)} s each against ${host.alone.toFixed(2)} s alone: k = ${host.k.toFixed(2)}, so at most ${(2 / host.k).toFixed(2)}x; this run reached ${((seqSecs / clusterSecs) / (2 / host.k) * 100).toFixed(0)}% of it`)
  console.log(`dispatch per cell:              submit or previous cell recorded → child starts the cell: ${stat(dispatch.map((d) => d.secs))}`)
  console.log(`                                (each worker's first cell, from submit: ${stat(dispatch.filter((d) => d.first).map((d) => d.secs))}; later cells: ${stat(dispatch.filter((d) => !d.first).map((d) => d.secs))})`)
  console.log(`                                child done → result recorded in PostgreSQL: ${stat(back)}`)
  console.log(`                                study load in the child: ${stat(rows.map((r) => r.studyLoad / 1000))}; the cell itself: ${stat(rows.map((r) => r.cell / 1000))}`)
  console.log(`submitter:                      ${f(submitterStart)} from its start to the study submitted; ${f((lastRecorded - t0) / 1000 - submitterStart)} submitted → last result recorded; ${f((tEnd - lastRecorded) / 1000)} from there to its exit (study complete seen, folders checked, study collected)`)
  console.log(`workers' start-up (once):       ${f(workerStartSecs)} wall, ${f(workerStartCpu)} CPU (joining the cluster, preloading the cell processes)`)
  console.log(`run-cell with nothing to do:    ${f(noopSecs)} (process start-up, study load and compile)`)
  console.log(`load average after:             ${load()}`)
  console.log(`per cell (s): worker, cell, wait before taken (from submit or its worker's previous cell), taken → child, study load, cell, child done → recorded`)
  for (const r of [...rows].sort((a, b) => a.taken - b.taken)) {
    const before = rows.filter((o) => o.worker === r.worker && o.taken < r.taken).map((o) => o.recordedAt)
    const from = before.length > 0 ? Math.max(...before) : submitted
    console.log(`  b${r.worker + 1} ${r.index}  ${((r.taken - from) / 1000).toFixed(3)}  ${((r.childStart - r.taken) / 1000).toFixed(3)}  ${(r.studyLoad / 1000).toFixed(3)}  ${(r.cell / 1000).toFixed(3)}  ${((r.recordedAt - r.childEnd) / 1000).toFixed(3)}`)
  }
} finally {
  pg.stop()
  fs.rmSync(root, { recursive: true, force: true })
}
