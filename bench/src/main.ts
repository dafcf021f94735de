/**
 * `npm run bench`: trains the benchmark configurations on the selected backend and prints a table
 * plus one JSON line per configuration. Not a test: no thresholds are asserted here; targets are
 * tracked in docs/performance.md.
 *
 *   npm run bench -- [--config tiny|reference|wide|all] [--backend auto|wasm|cpu] [--threads N] [--steps N] [--warmup N]
 */
import { NodeRuntime } from "@effect/platform-node"
import { Backends } from "@rekindle/engine"
import { Effect } from "effect"
import { configs } from "./Configs.ts"
import { run } from "./Run.ts"

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback
}

const fmt = (x: number, digits = 1) => x.toFixed(digits)

const program = Effect.gen(function*() {
  const which = arg("config", "reference")
  const names = which === "all" ? Object.keys(configs) : which.split(",")
  const threads = arg("threads", "")
  const info = yield* Backends.init({ name: arg("backend", "auto"), ...(threads !== "" ? { threads: Number(threads) } : {}) }, [])
  const options = { steps: Number(arg("steps", "6")), warmup: Number(arg("warmup", "2")) }
  console.log(`backend ${info.name}, ${info.threads} thread(s), simd ${info.simd}, overrides ${info.overrides}; ${options.steps} timed steps after ${options.warmup} warm-up`)
  console.log("config     tokens/s  step ms (min-max)      fwd    bwd    opt   bare ms  overhead  GFLOP/s  matmul GFLOP/s  RSS MB  tensors")
  for (const name of names) {
    const c = configs[name]
    if (c === undefined) {
      console.error(`unknown config "${name}"; known: ${Object.keys(configs).join(", ")}`)
      process.exitCode = 2
      return
    }
    const r = yield* run(c, options, info)
    console.log(
      `${r.config.padEnd(10)} ${fmt(r.tokensPerSec, 0).padStart(8)}  ${fmt(r.stepMs.median, 0).padStart(6)} (${fmt(r.stepMs.min, 0)}-${fmt(r.stepMs.max, 0)})`.padEnd(44) +
        ` ${fmt(r.forwardMs, 0).padStart(6)} ${fmt(r.backwardMs, 0).padStart(6)} ${fmt(r.optimizerMs, 0).padStart(6)} ${fmt(r.bareStepMs.median, 0).padStart(8)}` +
        ` ${(fmt(r.overhead * 100, 1) + "%").padStart(9)} ${fmt(r.effectiveGflops).padStart(8)} ${fmt(r.matmulGflops).padStart(15)} ${fmt(r.peakRssMb, 0).padStart(7)} ${String(r.tensorsAlive).padStart(8)}`
    )
    console.log(JSON.stringify({ bench: "train-step", ...r }))
  }
})

NodeRuntime.runMain(program)
