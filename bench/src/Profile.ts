/**
 * Per-kernel profile of the framework's training step (TF.js's profiler: wall time around every
 * kernel call, forward, backward and optimizer alike). Prints the kernels by total time and the
 * heaviest (kernel, shapes) groups. Not a test.
 *
 *   npx tsx bench/src/Profile.ts [--config reference] [--backend wasm] [--threads N] [--steps 3] [--top 40]
 */
import "@rekindle/engine/Gradients"
import { Key } from "@rekindle/core"
import { Backends } from "@rekindle/engine"
import { Model } from "@rekindle/model"
import { adam } from "@rekindle/plugin-optim"
import { TrainLoop } from "@rekindle/training"
import * as tf from "@tensorflow/tfjs-core"
import { Effect } from "effect"
import { configs } from "./Configs.ts"
import * as Synthetic from "./Synthetic.ts"

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback
}

/** One profiled kernel call. */
export interface KernelCall {
  readonly name: string
  readonly ms: number
  readonly shapes: string
}

/** Runs `f` under TF.js's profiler and returns every kernel call with its wall time. */
export const profile = async (f: () => void): Promise<Array<KernelCall>> => {
  const info = await tf.profile(() => {
    f()
    return [] as Array<tf.Tensor>
  })
  return info.kernels.map((k) => ({
    name: k.name,
    ms: k.kernelTimeMs as number,
    shapes: `${JSON.stringify(k.inputShapes)} -> ${JSON.stringify(k.outputShapes)}`
  }))
}

/** Sums calls by a key; returns [key, total ms, count] by total, largest first. */
export const aggregate = (calls: ReadonlyArray<KernelCall>, key: (c: KernelCall) => string): Array<[string, number, number]> => {
  const m = new Map<string, [number, number]>()
  for (const c of calls) {
    const e = m.get(key(c)) ?? [0, 0]
    m.set(key(c), [e[0] + c.ms, e[1] + 1])
  }
  return [...m.entries()].map(([k, [ms, n]]): [string, number, number] => [k, ms, n]).sort((a, b) => b[1] - a[1])
}

const main = async () => {
  const c = configs[arg("config", "reference")]!
  const threads = arg("threads", "")
  await Effect.runPromise(Backends.init({ name: arg("backend", "wasm"), ...(threads !== "" ? { threads: Number(threads) } : {}) }, []))
  const steps = Number(arg("steps", "3"))
  const top = Number(arg("top", "40"))
  const model = Model.make(c.model)
  const stream = Synthetic.stream(c.batchSize, c.model.seqLen, c.model.vocabSize)
  const loop = TrainLoop.make(model, adam({ lr: 1e-3 }), model.init(Key.make(1)))
  const step = () => {
    const b = Model.toTensors(stream.next())
    loop.step(b).dispose()
    Model.disposeBatch(b)
  }
  step()
  const calls: Array<KernelCall> = []
  let wall = 0
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now()
    calls.push(...(await profile(step)))
    wall += performance.now() - t0
  }
  const total = calls.reduce((s, k) => s + k.ms, 0)
  console.log(`${c.name}: ${steps} steps, wall ${(wall / steps).toFixed(0)} ms/step, kernels ${(total / steps).toFixed(0)} ms/step, ${calls.length / steps} kernel calls/step`)
  console.log("\nby kernel:                      ms/step    %   calls/step")
  for (const [k, ms, n] of aggregate(calls, (x) => x.name)) {
    console.log(`${k.padEnd(30)} ${(ms / steps).toFixed(1).padStart(8)} ${((100 * ms) / total).toFixed(1).padStart(5)} ${String(n / steps).padStart(8)}`)
  }
  console.log(`\nheaviest (kernel, shapes), top ${top}:`)
  for (const [k, ms, n] of aggregate(calls, (x) => `${x.name} ${x.shapes}`).slice(0, top)) {
    console.log(`${(ms / steps).toFixed(1).padStart(8)} ms ${((100 * ms) / total).toFixed(1).padStart(5)}% x${n / steps}  ${k}`)
  }
  loop.dispose()
}

if (import.meta.url === `file://${process.argv[1]}`) void main()
