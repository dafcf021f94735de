/**
 * The distributed-study benchmark (not a test): an 8-cell tiny study run by one process in
 * sequence against the same study on two local workers (one slot, one backend thread each) on a
 * private PostgreSQL. Prints the wall times, the speedup and the dispatch overhead per cell
 * ((2 × cluster wall − sequential wall) / cells: worker time spent on anything but training),
 * and the start-up cost of a `study run-cell` that has nothing to do.
 *
 *   npm run bench:distributed [-- --steps 300 --backend wasm]
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { run, stop, tinyStudy, worker } from "./harness.ts"
import * as Postgres from "./postgres.ts"

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? process.argv[i + 1]! : fallback
}
const steps = Number(arg("steps", "300"))
const backend = arg("backend", "wasm")

const root = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-bench-distributed-"))
const cache = path.join(root, "cache")
const file = tinyStudy(path.join(root, "project"), {
  name: "bench8",
  steps,
  checkpointEvery: 50,
  lrs: [0.01, 0.02, 0.03, 0.04],
  seeds: [1, 2],
  backend: { name: backend, threads: 1 }
})
const secs = (t0: number) => (Date.now() - t0) / 1000
const pg = await Postgres.start()
try {
  // warm the tokenizer cache so neither side pays for it
  await run(["study", "run-cell", file, "--index", "0", "--runs-dir", path.join(root, "warm"), "--cache", cache])
  let t0 = Date.now()
  const noop = await run(["study", "run-cell", file, "--index", "0", "--runs-dir", path.join(root, "warm"), "--cache", cache])
  const noopSecs = secs(t0)
  if (noop.code !== 0) throw new Error(noop.out)

  t0 = Date.now()
  const seq = await run(["run", file, "--out", path.join(root, "seq"), "--cache", cache])
  const seqSecs = secs(t0)
  if (seq.code !== 0) throw new Error(seq.out)

  const runs = path.join(root, "cluster")
  const workers = [await worker(pg.url, "b1", runs, cache), await worker(pg.url, "b2", runs, cache)]
  t0 = Date.now()
  const sub = await run(["run", file, "--out", runs, "--cluster", pg.url, "--cache", cache])
  const clusterSecs = secs(t0)
  const cells = 8
  const status = await run(["study", "status", file, "--cluster", pg.url, "--out", runs])
  for (const w of workers) await stop(w)
  if (sub.code !== 0) throw new Error(sub.out)

  console.log(`8-cell tiny study, ${steps} steps per cell, backend ${backend} with 1 thread, ${os.cpus().length} cores`)
  console.log(`one process in sequence:        ${seqSecs.toFixed(1)} s`)
  console.log(`two workers (1 slot each):      ${clusterSecs.toFixed(1)} s`)
  console.log(`speedup:                        ${(seqSecs / clusterSecs).toFixed(2)}x`)
  console.log(`dispatch overhead per cell:     ${((2 * clusterSecs - seqSecs) / cells).toFixed(2)} s`)
  console.log(status.out.trim())
  // per worker, the time from one cell's end to the next one's start (queue hand-over and request to the warm child)
  const rows = [...status.out.matchAll(/finished on (\S+) from (\d\d):(\d\d):([\d.]+) for ([\d.]+) s/g)].map((m) => {
    const start = Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4])
    return { worker: m[1]!, start, end: start + Number(m[5]), secs: Number(m[5]) }
  })
  const gaps: Array<number> = []
  for (const w of new Set(rows.map((r) => r.worker))) {
    const mine = rows.filter((r) => r.worker === w).sort((a, b) => a.start - b.start)
    for (let i = 1; i < mine.length; i++) gaps.push(mine[i]!.start - mine[i - 1]!.end)
  }
  const mean = (xs: ReadonlyArray<number>) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)
  const warm = rows.filter((r) => rows.some((o) => o.worker === r.worker && o.start < r.start))
  console.log(`hand-over between cells on a worker: mean ${mean(gaps).toFixed(3)} s, max ${Math.max(...gaps).toFixed(3)} s`)
  console.log(`cell in a warm child:           mean ${mean(warm.map((r) => r.secs)).toFixed(1)} s (sequential: ${(seqSecs / cells).toFixed(1)} s per cell with one start-up)`)
  console.log(`run-cell with nothing to do:    ${noopSecs.toFixed(1)} s (process start-up, study load and compile)`)
} finally {
  pg.stop()
  fs.rmSync(root, { recursive: true, force: true })
}
