/**
 * A helper thread that shares sliced jobs with the calling thread on the wasm heap (the protocol of
 * BlasHelper.ts and KernelHelper.ts): a Node worker, unref'd (it never keeps the process alive),
 * and a shared Int32Array of control words followed by the job table. Both threads take slices from
 * one shared counter, so a helper that is descheduled holds at most one slice and the calling
 * thread takes the rest; the calling thread returns only when every slice has finished.
 *
 * Control words: [0] job number (the caller increments it and notifies), [1] slices in the job,
 * [2] last job the worker is through with, [3] state (0 starting, 1 ready, 2 failed), [4] next slice
 * to take, [5] slices finished, [6], [7] free for the job's own use; the table starts after
 * {@link header} words. A job is posted only when the worker is through with the previous one, so
 * the table never changes under the worker. Both sides look for the other a short while before
 * sleeping in `Atomics.wait` (being woken costs tens of microseconds).
 */
import { Worker } from "node:worker_threads"

/** Int32 control words before the job table (32 bytes: float64-aligned). */
const header = 8

/** How long the worker looks for the next job before sleeping (ms): calls often come in bursts. */
const workerSpinMs = 0.05
/** How long the caller looks for the helper's last slice before sleeping (ms). */
const callerSpinMs = 1
/** How long the caller waits for the worker to signal the end of its previous job (ms). */
const idleSpinMs = 0.02

/** A started helper: its control words, its job table (float64, after the control words) and its worker. */
export interface HelperThread {
  readonly ctrl: Int32Array
  readonly table: Float64Array
  readonly worker: Worker
}

/**
 * The worker's source: `setup` (JavaScript run once in the worker, with `workerData`, `ctrl` and
 * `table` in scope; a throw marks the helper failed) must define `job()`, called at the start of each job and
 * returning the function that runs slice i of it.
 */
export const workerSource = (setup: string): string => `
const { workerData } = require("node:worker_threads")
const ctrl = new Int32Array(workerData.ctrl)
const table = new Float64Array(workerData.ctrl, ${header * 4})
try {
${setup}
  Atomics.store(ctrl, 3, 1)
  Atomics.notify(ctrl, 3)
  let seen = 0
  for (;;) {
    const until = performance.now() + ${workerSpinMs}
    while (Atomics.load(ctrl, 0) === seen && performance.now() < until) {}
    Atomics.wait(ctrl, 0, seen)
    seen = Atomics.load(ctrl, 0)
    const n = ctrl[1]
    const slice = job()
    let i
    while ((i = Atomics.add(ctrl, 4, 1)) < n) {
      slice(i)
      if (Atomics.add(ctrl, 5, 1) + 1 === n) Atomics.notify(ctrl, 5)
    }
    Atomics.store(ctrl, 2, seen)
  }
} catch (e) {
  Atomics.store(ctrl, 3, 2)
  Atomics.notify(ctrl, 3)
  Atomics.notify(ctrl, 5)
}
`

/**
 * Starts a worker on `source` with control words and a table of `tableBytes` (the worker gets
 * their buffer as `workerData.ctrl`, beside `workerData`); null where no worker can be started.
 */
export const spawn = (source: string, workerData: Record<string, unknown>, tableBytes: number): HelperThread | null => {
  try {
    const ctrl = new Int32Array(new SharedArrayBuffer(header * 4 + tableBytes))
    const worker = new Worker(source, { eval: true, workerData: { ...workerData, ctrl: ctrl.buffer } })
    worker.on("error", () => Atomics.store(ctrl, 3, 2))
    worker.unref()
    return { ctrl, table: new Float64Array(ctrl.buffer, header * 4), worker }
  } catch {
    return null
  }
}

/** Resolves when `h` is up: true when it is ready, false when it failed. */
export const ready = async (h: HelperThread): Promise<boolean> => {
  // Atomics.waitAsync (Node ≥ 16; not in the project's TS lib)
  const waitAsync = (Atomics as unknown as { waitAsync: (a: Int32Array, i: number, v: number) => { value: unknown } }).waitAsync
  if (Atomics.load(h.ctrl, 3) === 0) {
    // the waiting promise alone does not keep the event loop alive: the worker does, meanwhile
    h.worker.ref()
    try {
      await waitAsync(h.ctrl, 3, 0).value
    } finally {
      h.worker.unref()
    }
  }
  return Atomics.load(h.ctrl, 3) === 1
}

/**
 * Whether `h` is ready and through with its last job. Every slice of that job has finished when
 * the caller posts the next (it waits for them), so the worker is a few instructions from saying
 * so: wait for that a little (a call right after another would otherwise run alone), unless it
 * was descheduled just there.
 */
export const available = (h: HelperThread): boolean => {
  const { ctrl } = h
  if (Atomics.load(ctrl, 3) !== 1) return false
  if (Atomics.load(ctrl, 2) === Atomics.load(ctrl, 0)) return true
  const until = performance.now() + idleSpinMs
  while (Atomics.load(ctrl, 2) !== Atomics.load(ctrl, 0)) {
    if (performance.now() > until) return false
  }
  return true
}

/**
 * Posts a job of `count` slices to `h` (available, its table written) and runs slices with it:
 * `one(s)` runs slice s on this thread. Returns how many slices the helper ran, or undefined when
 * it failed meanwhile (the caller then runs the whole job itself).
 */
export const share = (h: HelperThread, count: number, one: (s: number) => void): number | undefined => {
  const { ctrl } = h
  ctrl[1] = count
  Atomics.store(ctrl, 4, 0)
  Atomics.store(ctrl, 5, 0)
  Atomics.add(ctrl, 0, 1)
  Atomics.notify(ctrl, 0)
  let mine = 0
  let s: number
  while ((s = Atomics.add(ctrl, 4, 1)) < count) {
    one(s)
    mine++
    Atomics.add(ctrl, 5, 1)
  }
  // the helper is at most one slice behind
  const until = performance.now() + callerSpinMs
  let finished: number
  while ((finished = Atomics.load(ctrl, 5)) < count) {
    if (Atomics.load(ctrl, 3) === 2) return undefined
    if (performance.now() < until) continue
    Atomics.wait(ctrl, 5, finished, 1000)
  }
  return count - mine
}
