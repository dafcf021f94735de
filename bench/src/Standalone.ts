/**
 * What the bench's standalone scripts (Signals.ts, SignalsEndToEnd.ts) share: their flags
 * (`--config`, `--threads`, `--steps`, `--warmup`), the wasm backend they start, and how a timing
 * summary reads.
 */
import { Backends } from "@rekindle/engine"
import { Effect } from "effect"
import { type BenchConfig, configs } from "./Configs.ts"
import type { Summary } from "./Stats.ts"
import { arg } from "./Args.ts"

/** Starts the wasm backend (`--threads`, default all) and reads the config, steps and warm-up flags. */
export const start = async (defaultSteps: number) => {
  const threads = arg("threads", "")
  const info = await Effect.runPromise(Backends.init({ name: "wasm", ...(threads !== "" ? { threads: Number(threads) } : {}) }, []))
  const config: BenchConfig = configs[arg("config", "reference")]!
  return { threads: info.threads, config, steps: Number(arg("steps", String(defaultSteps))), warmup: Number(arg("warmup", "2")) }
}

/** `median 512 ms (min 498, max 560)`. */
export const inWords = (s: Summary): string => `median ${s.median.toFixed(0)} ms (min ${s.min.toFixed(0)}, max ${s.max.toFixed(0)})`
