/**
 * Interleaved A/B timing of the framework's training step under two sets of wasm overrides (on a
 * shared, noisy machine only interleaved comparisons in one process mean anything): the two
 * variants alternate step by step, each on its own TrainLoop, and the medians and minima are
 * printed. Not a test.
 *
 *   npx tsx bench/src/AB.ts [--config reference] [--threads N] [--blas auto] [--steps 8] [--a key=false,...] [--b key=false,...]
 *
 * `--a` / `--b` list `WasmOverrides.OverrideOptions` (e.g. `--a identity=false,adam=false,smallProducts=pool`).
 * Native BLAS on/off: `--blas openblas --a blas=false --b blas=true` (XNNPACK vs OpenBLAS products).
 * Attention's small products on the library's threads vs one thread: `--blas openblas --a smallProducts=pool`;
 * Adam with the decay and learning-rate tail composed vs fused: `--a adamW=false`.
 */
import "@rekindle/engine/Gradients"
import { Key } from "@rekindle/core"
import { Backends, WasmOverrides } from "@rekindle/engine"
import { Model } from "@rekindle/model"
import { adam } from "@rekindle/plugin-optim"
import { TrainLoop } from "@rekindle/training"
import * as tf from "@tensorflow/tfjs-core"
import { Effect } from "effect"
import { configs } from "./Configs.ts"
import { summarize } from "./Stats.ts"
import * as Synthetic from "./Synthetic.ts"
import { arg } from "./Args.ts"

/** Parses `key=false,key2=true` into override options. */
export const parseOptions = (s: string): WasmOverrides.OverrideOptions =>
  Object.fromEntries(s.split(",").filter((x) => x !== "").map((kv) => {
    const [k, v] = kv.split("=")
    return [k!, v === "true" ? true : v === "false" ? false : Number.isNaN(Number(v)) ? v : Number(v)]
  }))

const main = async () => {
  const c = configs[arg("config", "reference")]!
  const threads = arg("threads", "")
  const info = await Effect.runPromise(Backends.init({ name: "wasm", ...(threads !== "" ? { threads: Number(threads) } : {}), blas: arg("blas", "auto") }, []))
  console.log(`blas: ${info.blas?.library ?? "none"} (${info.blas?.reason ?? "not wasm"})`)
  const variants = [["A", parseOptions(arg("a", ""))], ["B", parseOptions(arg("b", ""))]] as const
  const steps = Number(arg("steps", "8"))
  const model = Model.make(c.model)
  // one stream per variant: both see the same batches in the same order (losses comparable bit for bit)
  const streams = variants.map(() => Synthetic.stream(c.batchSize, c.model.seqLen, c.model.vocabSize))
  const loops = variants.map(() => TrainLoop.make(model, adam({ lr: 1e-3 }), model.init(Key.make(1))))
  const times: Array<Array<number>> = [[], []]
  const losses: Array<Array<number>> = [[], []]
  for (let s = -1; s < steps; s++) {
    for (let v = 0; v < 2; v++) {
      const i = s % 2 === 0 ? v : 1 - v // both variants every round, alternating which goes first
      WasmOverrides.uninstall()
      WasmOverrides.install(variants[i]![1])
      const b = Model.toTensors(streams[i]!.next())
      const t0 = performance.now()
      const l = loops[i]!.step(b)
      const loss = l.dataSync()[0]!
      const ms = performance.now() - t0
      l.dispose()
      Model.disposeBatch(b)
      if (s >= 0) times[i]!.push(ms)
      losses[i]!.push(loss)
    }
  }
  WasmOverrides.uninstall()
  WasmOverrides.install()
  variants.forEach(([name, o], i) => {
    const st = summarize(times[i]!)
    console.log(`${name} ${JSON.stringify(o)}: median ${st.median.toFixed(0)} ms, min ${st.min.toFixed(0)}, max ${st.max.toFixed(0)}; ${(c.batchSize * c.model.seqLen / (st.median / 1000)).toFixed(0)} tokens/s; losses ${losses[i]!.slice(0, 4).map((x) => x.toFixed(5)).join(" ")}`)
  })
  const [a, b] = times.map((t) => summarize(t))
  // each timed step of B against A's step of the same round (the two ran back to back)
  const paired = summarize(times[1]!.map((t, s) => t / times[0]![s]!))
  const sameBits = losses[0]!.length === losses[1]!.length && losses[0]!.every((x, s) => Object.is(x, losses[1]![s]))
  console.log(
    `B/A: median ${(b!.median / a!.median).toFixed(3)}, min ${(b!.min / a!.min).toFixed(3)}, median of paired ratios ${paired.median.toFixed(3)}; ` +
      `losses ${sameBits ? "bitwise equal" : "differ"}; tensors ${tf.memory().numTensors}`
  )
  for (const l of loops) l.dispose()
}

if (import.meta.url === `file://${process.argv[1]}`) void main()
