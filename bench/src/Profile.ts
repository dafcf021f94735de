/**
 * Per-kernel profile of the framework's training step (TF.js's profiler: wall time around every
 * kernel call, forward, backward and optimizer alike). Prints the kernels by total time and the
 * heaviest (kernel, shapes) groups. Not a test.
 *
 *   npx tsx bench/src/Profile.ts [--config reference] [--backend wasm] [--threads N] [--blas auto|openblas|none|PATH] [--steps 3] [--top 40]
 *                                [--overrides key=false,...] [--vs key=false,...]
 *
 * `--overrides` installs that set of wasm overrides (`WasmOverrides.OverrideOptions`, as in AB.ts)
 * instead of the defaults. `--vs` profiles a second set interleaved with the first (alternating
 * steps, each set on its own TrainLoop) and prints the per-kernel times of both side by side (by
 * kernel, then with BatchMatMul split by shapes).
 *
 * Rates, measured in the same process and interleaved with the steps (after every profiled step,
 * 3 plain NN products [2048,256]×[256,1024] on the same path: the plain-product rate at the same
 * moment of the machine's load): the step's effective GFLOP/s (`Model.flops`), the products'
 * own rate inside the step (FLOPs of every BatchMatMul call over their kernel time), and both
 * against the plain product, each as median over median. The 1-minute load average is printed
 * before and after (on a shared machine only ratios measured this way mean anything).
 */
import "@rekindle/engine/Gradients"
import { Key } from "@rekindle/core"
import { Backends, WasmOverrides } from "@rekindle/engine"
import { Model } from "@rekindle/model"
import { adam } from "@rekindle/plugin-optim"
import { TrainLoop } from "@rekindle/training"
import * as tf from "@tensorflow/tfjs-core"
import { Effect } from "effect"
import * as os from "node:os"
import { parseOptions } from "./AB.ts"
import { configs } from "./Configs.ts"
import * as Synthetic from "./Synthetic.ts"
import { arg } from "./Args.ts"
import { summarize } from "./Stats.ts"

/** One profiled kernel call. */
export interface KernelCall {
  readonly name: string
  readonly ms: number
  readonly shapes: string
}

/**
 * Runs `f` under TF.js's profiler and returns every kernel call with its wall time. The profiler
 * also lists each custom-gradient op (`tf.customGrad`: the loss, the hidden-gradient tap) under its
 * scope's name ("unnamed scope"), timed around the kernels it runs, which it lists too: those
 * entries are dropped, so that no time is counted twice.
 */
export const profile = async (f: () => void): Promise<Array<KernelCall>> => {
  const info = await tf.profile(() => {
    f()
    return [] as Array<tf.Tensor>
  })
  const backend = tf.getBackend()
  return info.kernels.filter((k) => tf.getKernel(k.name, backend) !== undefined).map((k) => ({
    name: k.name,
    ms: k.kernelTimeMs as number,
    shapes: `${JSON.stringify(k.inputShapes)} -> ${JSON.stringify(k.outputShapes)}`
  }))
}

/** FLOPs of one profiled BatchMatMul call (2·batch·M·N·K from its input and output shapes), else 0. */
export const matMulFlops = (c: KernelCall): number => {
  if (c.name !== "BatchMatMul") return 0
  const [shapes, outShapes] = c.shapes.split(" -> ").map((x) => JSON.parse(x) as Array<Array<number>>)
  const a = shapes![0]!
  const out = outShapes![0]!
  const size = (s: ReadonlyArray<number>) => s.reduce((x, y) => x * y, 1)
  const M = out[out.length - 2]!
  const K = size(a) / (size(a.slice(0, -2)) * M)
  return 2 * size(out) * K
}

const medianOf = (xs: ReadonlyArray<number>): number => summarize(xs).median

const load = (): string => os.loadavg().map((x) => x.toFixed(2)).join(" ")

/** Sums calls by a key; returns [key, total ms, count] by total, largest first. */
export const aggregate = (calls: ReadonlyArray<KernelCall>, key: (c: KernelCall) => string): Array<[string, number, number]> => {
  const m = new Map<string, [number, number]>()
  for (const c of calls) {
    const e = m.get(key(c)) ?? [0, 0]
    m.set(key(c), [e[0] + c.ms, e[1] + 1])
  }
  return [...m.entries()].map(([k, [ms, n]]): [string, number, number] => [k, ms, n]).sort((a, b) => b[1] - a[1])
}

/** Prints kernels by total time side by side for two profiled runs (ms per step). */
const printSideBySide = (a: ReadonlyArray<KernelCall>, b: ReadonlyArray<KernelCall>, steps: number, key: (c: KernelCall) => string): void => {
  const byA = new Map(aggregate(a, key).map(([k, ms, n]) => [k, [ms, n]] as const))
  const byB = new Map(aggregate(b, key).map(([k, ms, n]) => [k, [ms, n]] as const))
  const names = [...new Set([...byA.keys(), ...byB.keys()])]
    .sort((x, y) => Math.max(byB.get(y)?.[0] ?? 0, byA.get(y)?.[0] ?? 0) - Math.max(byB.get(x)?.[0] ?? 0, byA.get(x)?.[0] ?? 0))
  const cell = (e: readonly [number, number] | undefined) =>
    e === undefined ? "-".padStart(18) : `${(e[0] / steps).toFixed(1).padStart(9)} ${String(e[1] / steps).padStart(8)}`
  console.log(`\n     A ms    calls      B ms    calls  (per step)`)
  for (const k of names) console.log(`${cell(byA.get(k))} ${cell(byB.get(k))}  ${k}`)
  const total = (c: ReadonlyArray<KernelCall>) => c.reduce((s, k) => s + k.ms, 0) / steps
  console.log(`${total(a).toFixed(1).padStart(9)} ${String(a.length / steps).padStart(8)} ${total(b).toFixed(1).padStart(9)} ${String(b.length / steps).padStart(8)}  total`)
}

const main = async () => {
  const c = configs[arg("config", "reference")]!
  const threads = arg("threads", "")
  const info = await Effect.runPromise(Backends.init({ name: arg("backend", "wasm"), ...(threads !== "" ? { threads: Number(threads) } : {}), blas: arg("blas", "auto") }, []))
  console.log(`blas: ${info.blas?.library ?? "none"} (${info.blas?.reason ?? "not wasm"})`)
  const steps = Number(arg("steps", "3"))
  const top = Number(arg("top", "40"))
  const sets = [parseOptions(arg("overrides", "")), ...(arg("vs", "") === "" ? [] : [parseOptions(arg("vs", ""))])]
  const useSet = (i: number) => {
    if (arg("overrides", "") === "" && sets.length === 1) return
    WasmOverrides.uninstall()
    WasmOverrides.install(sets[i])
  }
  const model = Model.make(c.model)
  const stream = Synthetic.stream(c.batchSize, c.model.seqLen, c.model.vocabSize)
  const loops = sets.map(() => TrainLoop.make(model, adam({ lr: 1e-3 }), model.init(Key.make(1))))
  let lastTargets = 0
  const step = (i: number) => () => {
    const raw = stream.next()
    lastTargets = raw.targetIds.length
    const b = Model.toTensors(raw)
    loops[i]!.step(b).dispose()
    Model.disposeBatch(b)
  }
  for (let i = 0; i < sets.length; i++) {
    useSet(i)
    step(i)()
  }
  const calls: Array<Array<KernelCall>> = sets.map(() => [])
  const wall = sets.map(() => 0)
  const walls: Array<Array<number>> = sets.map(() => [])
  const stepFlops: Array<Array<number>> = sets.map(() => [])
  const plainMs: Array<number> = []
  const pa = tf.randomNormal([2048, 256]), pb = tf.randomNormal([256, 1024])
  const plainFlop = 2 * 2048 * 256 * 1024
  const plain = () => {
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now()
      tf.tidy(() => void tf.matMul(pa, pb).dataSync())
      plainMs.push(performance.now() - t0)
    }
  }
  console.log(`load average (1, 5, 15 min) before: ${load()}`)
  for (let s = 0; s < steps; s++) {
    for (let v = 0; v < sets.length; v++) {
      const i = (s + v) % sets.length // alternate which set goes first
      useSet(i)
      const t0 = performance.now()
      calls[i]!.push(...(await profile(step(i))))
      const ms = performance.now() - t0
      wall[i]! += ms
      walls[i]!.push(ms)
      stepFlops[i]!.push(Model.flops(c.model, c.batchSize, lastTargets).forwardBackward)
      plain()
    }
  }
  tf.dispose([pa, pb])
  console.log(`load average after: ${load()}`)
  const plainRate = plainFlop / medianOf(plainMs) / 1e6
  console.log(`plain product [2048,256]x[256,1024] on this path, interleaved: median ${medianOf(plainMs).toFixed(2)} ms = ${plainRate.toFixed(1)} GFLOP/s (best ${(plainFlop / Math.min(...plainMs) / 1e6).toFixed(1)})`)
  sets.forEach((o, i) => {
    const eff = medianOf(stepFlops[i]!) / medianOf(walls[i]!) / 1e6
    const mm = calls[i]!.filter((k) => k.name === "BatchMatMul")
    const mmRate = mm.reduce((x, k) => x + matMulFlops(k), 0) / mm.reduce((x, k) => x + k.ms, 0) / 1e6
    console.log(
      `${sets.length > 1 ? "AB"[i] + " " : ""}step ${medianOf(walls[i]!).toFixed(0)} ms median: effective ${eff.toFixed(1)} GFLOP/s = ${(100 * eff / plainRate).toFixed(0)}% of the plain product; ` +
        `its BatchMatMuls ${mmRate.toFixed(1)} GFLOP/s = ${(100 * mmRate / plainRate).toFixed(0)}%, ${(100 * mm.reduce((x, k) => x + k.ms, 0) / calls[i]!.reduce((x, k) => x + k.ms, 0)).toFixed(0)}% of the kernel time`
    )
  })
  if (sets.length > 1) {
    WasmOverrides.uninstall()
    WasmOverrides.install()
    sets.forEach((o, i) => console.log(`${"AB"[i]} ${JSON.stringify(o)}: wall ${(wall[i]! / steps).toFixed(0)} ms/step, ${calls[i]!.length / steps} kernel calls/step`))
    printSideBySide(calls[0]!, calls[1]!, steps, (x) => x.name)
    printSideBySide(calls[0]!, calls[1]!, steps, (x) => (x.name === "BatchMatMul" ? `${x.name} ${x.shapes}` : x.name))
    for (const l of loops) l.dispose()
    return
  }
  const all = calls[0]!
  const total = all.reduce((s, k) => s + k.ms, 0)
  console.log(`${c.name}: ${steps} steps, wall ${(wall[0]! / steps).toFixed(0)} ms/step, kernels ${(total / steps).toFixed(0)} ms/step, ${all.length / steps} kernel calls/step`)
  console.log("\nby kernel:                      ms/step    %   calls/step")
  for (const [k, ms, n] of aggregate(all, (x) => x.name)) {
    console.log(`${k.padEnd(30)} ${(ms / steps).toFixed(1).padStart(8)} ${((100 * ms) / total).toFixed(1).padStart(5)} ${String(n / steps).padStart(8)}`)
  }
  console.log(`\nheaviest (kernel, shapes), top ${top}:`)
  for (const [k, ms, n] of aggregate(all, (x) => `${x.name} ${x.shapes}`).slice(0, top)) {
    console.log(`${(ms / steps).toFixed(1).padStart(8)} ms ${((100 * ms) / total).toFixed(1).padStart(5)}% x${n / steps}  ${k}`)
  }
  if (arg("overrides", "") !== "") {
    WasmOverrides.uninstall()
    WasmOverrides.install()
  }
  for (const l of loops) l.dispose()
}

if (import.meta.url === `file://${process.argv[1]}`) void main()
