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
  const status = await run(["study", "status", file, "--cluster", pg.url, "--out", runs])
  for (const w of workers) await stop(w)
  if (sub.code !== 0) throw new Error(sub.out)

  const cells = 8
  console.log(`8-cell tiny study, ${steps} steps per cell, backend ${backend} with 1 thread, ${os.cpus().length} cores`)
  console.log(`one process in sequence:        ${seqSecs.toFixed(1)} s`)
  console.log(`two workers (1 slot each):      ${clusterSecs.toFixed(1)} s`)
  console.log(`speedup:                        ${(seqSecs / clusterSecs).toFixed(2)}x`)
  console.log(`dispatch overhead per cell:     ${((2 * clusterSecs - seqSecs) / cells).toFixed(2)} s`)
  console.log(status.out.trim())
  console.log(`run-cell with nothing to do:    ${noopSecs.toFixed(1)} s (process start-up, study load and compile)`)
} finally {
  pg.stop()
  fs.rmSync(root, { recursive: true, force: true })
}
