/**
 * The fused wasm SIMD kernels (KernelModule.ts) on two threads: a large call is cut into slices by
 * pointer offsets and the calling thread and a helper thread (a Node worker with its own instance
 * of `kernels-shared.wasm` on the same shared heap) take them from one shared counter, so a helper
 * that is descheduled (a busy machine) holds at most one slice. Row-wise and elementwise kernels
 * are cut by rows or element blocks; a column sum over rows (LayerNorm's and bias + activation's
 * gradients, Sum over leading axes) only by column ranges, so each column is still summed in row
 * order, after the rows' own outputs (a call made of parts, one after the other). The kernels own
 * no memory, globals or scratch of their own (KernelBuild.ts checks it; accumulators are passed
 * per call and each slice gets its own range of them), so who runs which slice does not change the
 * bits: the helper is a scheduling choice, and whenever it is not available (plain memory, still
 * starting, failed, busy, switched off, a small call, or timing finds it slower for a call shape)
 * the calling thread runs the whole call itself, with the same results.
 *
 * One helper per shared memory, started on first use; it does not keep the process alive. Whether
 * calls are split is set by `WasmOverrides.install` (`kernelHelper`, see {@link use}).
 *
 * The protocol is HelperThread.ts's, with [6] the export's index in {@link exportNames} and [7] its
 * argument count; the table holds each slice's arguments as float64.
 */
import { fileURLToPath } from "node:url"
import * as Adaptive from "./Adaptive.ts"
import * as HelperThread from "./HelperThread.ts"
import { binaryUrls, kernels, memoryOf } from "./KernelModule.ts"
import type { WasmBackendInternals } from "./WasmHeap.ts"

/** The parts of `WebAssembly.Memory` used here. */
interface Memory {
  readonly buffer: ArrayBufferLike
}

/** The exports a helper can run, by index. */
const exportNames = [
  "adam", "layerNorm", "layerNormGrad", "layerNormGradSums", "biasAct", "biasActGrad", "colSum",
  "softmax", "softmaxGrad", "softmaxXent", "softmaxXentGrad"
] as const

/** A kernel export the helper can run. */
type Splittable = (typeof exportNames)[number]

const maxArgs = 24 // float64 per slice
/** Most slices per call: a descheduled helper costs at most one of them. */
const maxSlices = 8

type Helper = HelperThread.HelperThread

const workerSource = HelperThread.workerSource(`
  const { readFileSync } = require("node:fs")
  const module = new WebAssembly.Module(readFileSync(workerData.binary))
  const exports = new WebAssembly.Instance(module, { env: { memory: workerData.memory } }).exports
  const fns = workerData.names.map((n) => exports[n])
  const job = () => {
    const fn = fns[ctrl[6]]
    const count = ctrl[7]
    return (i) => fn.apply(undefined, Array.from(table.subarray(${maxArgs} * i, ${maxArgs} * i + count)))
  }
`)

const helpers = new WeakMap<Memory, Helper | null>()

/** The helper for `memory` (started on first call), or undefined where it cannot work (plain memory). */
const helperFor = (memory: Memory): Helper | undefined => {
  const known = helpers.get(memory)
  if (known !== undefined) return known ?? undefined
  const shared = typeof SharedArrayBuffer !== "undefined" && memory.buffer instanceof SharedArrayBuffer
  const made = shared
    ? HelperThread.spawn(workerSource, { memory, binary: fileURLToPath(binaryUrls.shared), names: exportNames }, 8 * maxArgs * maxSlices)
    : null
  helpers.set(memory, made)
  return made ?? undefined
}

/**
 * Starts the helper for `memory` if it is not started yet and resolves when it is up: true when it
 * is ready, false where it cannot run (plain memory, worker failed).
 */
export const start = async (memory: Memory): Promise<boolean> => {
  const h = helperFor(memory)
  return h === undefined ? false : HelperThread.ready(h)
}

/**
 * Stops the helper for `memory` (if any): from then on the calling thread runs every call on that
 * memory itself (tests check that fallback; the worker never keeps the process alive anyway).
 */
export const stop = (memory: Memory): void => {
  const h = helpers.get(memory)
  if (h === undefined || h === null) return
  Atomics.store(h.ctrl, 3, 2)
  void h.worker.terminate()
}

let enabled = false
let timed = true

/**
 * Whether large kernel calls are split with the helper thread, and whether only where timing finds
 * it faster (set by `WasmOverrides.install`; `timed: false` splits every large call).
 */
export const use = (on: boolean, byTiming = true): void => {
  enabled = on
  timed = byTiming
}

/**
 * Split or whole, per call shape, by timing (Adaptive.ts): on a quiet machine the split wins; while
 * another job holds the other core the helper is descheduled and the calling thread waits for it.
 */
const chooser = Adaptive.make()

/** Elements (of the largest operand) from which a call is split: below, waking the helper costs more than it saves. */
const minElements = 65536

/** Slices the helper ran in the last split call (tests check that it really shares the work). */
let workerSlices = 0

/** Slices the helper ran in the last split call (0 when the call ran on the calling thread alone). */
export const lastHelperSlices = (): number => workerSlices

/**
 * One part of a split call: kernel export `name` over `units` independent units (rows, blocks of
 * elements or of columns); `argsOf(first, end)` gives the arguments that make it compute exactly
 * units first..end−1 of the part.
 */
interface Part {
  readonly name: Splittable
  readonly units: number
  readonly argsOf: (first: number, end: number) => ReadonlyArray<number>
}

/**
 * Runs a call of `size` elements (its largest operand) on `backend`'s heap: as `whole()` on the
 * calling thread, or, when the helper is on, ready and idle, `size` ≥ {@link minElements} and
 * (unless switched off) timing finds it faster for this shape, as `parts` one after the other,
 * each as up to {@link maxSlices} calls over contiguous unit ranges shared with the helper thread.
 * The parts together must compute exactly what `whole` does, bit for bit.
 */
export const runParts = (backend: WasmBackendInternals, size: number, whole: () => void, parts: ReadonlyArray<Part>): void => {
  const h = enabled && size >= minElements ? helperFor(memoryOf(backend)) : undefined
  workerSlices = 0
  // no helper, not ready, or still in its previous job: the whole call on this thread
  if (h === undefined || !HelperThread.available(h)) return whole()
  const k = kernels(backend)
  const split = () => {
    for (const part of parts) runSplit(h, k[part.name] as (...args: ReadonlyArray<number>) => void, part)
  }
  return timed ? chooser.run(`${parts.map((p) => `${p.name} ${p.units}`).join(" ")} ${size}`, whole, split) : split()
}

/** {@link runParts} for a call of one kernel export over `units` units: `argsOf(0, units)` is the whole call. */
export const run = (
  backend: WasmBackendInternals, name: Splittable, units: number, size: number,
  argsOf: (first: number, end: number) => ReadonlyArray<number>
): void => {
  const whole = () => (kernels(backend)[name] as (...args: ReadonlyArray<number>) => void)(...argsOf(0, units))
  runParts(backend, units > 1 ? size : 0, whole, [{ name, units, argsOf }])
}

/**
 * Runs `part` as slices taken by this thread and the helper `h` (ready; when it is not idle, as
 * after a part whose end it has not signalled yet, the part runs whole on this thread).
 */
const runSplit = (h: Helper, fn: (...args: ReadonlyArray<number>) => void, part: Part): void => {
  const { name, units, argsOf } = part
  if (units < 2 || !HelperThread.available(h)) {
    fn(...argsOf(0, units))
    return
  }
  const count = Math.min(maxSlices, units)
  const slices: Array<ReadonlyArray<number>> = []
  for (let s = 0; s < count; s++) {
    const args = argsOf(Math.floor((units * s) / count), Math.floor((units * (s + 1)) / count))
    slices.push(args)
    h.table.set(args, maxArgs * s)
  }
  h.ctrl[6] = exportNames.indexOf(name)
  h.ctrl[7] = slices[0]!.length
  const helped = HelperThread.share(h, count, (s) => fn(...slices[s]!))
  // the helper failed meanwhile: the whole part here (same bits)
  if (helped === undefined) fn(...argsOf(0, units))
  else workerSlices += helped
}
