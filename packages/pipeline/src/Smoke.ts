/**
 * Smoke runs (`rekindle run <file> --smoke [N]`): a resolved pipeline shortened to N training steps
 * with every scheduled thing compressed so each still happens at least once: recycling stages,
 * probes, evaluations, checkpoints, step hooks' windows (the pruning ramp, the retraining window),
 * optimizer warm-up.
 * Steps are scaled by N / train.steps and clamped into the run; the model, data, parts and their
 * options stay as they are, so a smoke run exercises the same code paths as the full run, in
 * seconds. Batches are capped at 8 sequences and evaluation at one batch.
 */

type Json = Record<string, unknown>

const isObject = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)
const num = (u: unknown): number | undefined => (typeof u === "number" && Number.isFinite(u) ? u : undefined)

/**
 * A step hook's options with its step options compressed, by name (the built-in hooks and any
 * plugin hook that uses the same names): a window `from`..`until` (pruning's ramp) stays inside
 * the run with until ≥ from; a window starting `at` and lasting `steps` (retraining) starts at
 * step 1 or later and ends by the run's end; `every` and `warmup` are scaled. Other options stay.
 */
const shortenHook = (hook: Json, n: number, scale: (s: number) => number, within: (s: number, min?: number) => number): Json => {
  const out: Json = { ...hook }
  const from = num(hook["from"])
  const until = num(hook["until"])
  if (from !== undefined) out["from"] = within(from)
  if (until !== undefined) out["until"] = Math.max(num(out["from"]) ?? 0, within(until))
  const at = num(hook["at"])
  const steps = num(hook["steps"])
  if (at !== undefined) {
    out["at"] = Math.min(n - 1, Math.max(1, scale(at)))
    if (steps !== undefined) out["steps"] = Math.max(1, Math.min(n - (out["at"] as number), scale(steps)))
  }
  const every = num(hook["every"])
  if (every !== undefined) out["every"] = Math.max(1, scale(every))
  const warmup = num(hook["warmup"])
  if (warmup !== undefined) out["warmup"] = Math.min(num(out["steps"]) ?? n, scale(warmup))
  return out
}

/**
 * The smoke version of a resolved pipeline (`plan.resolved`, every default filled in): a new value,
 * to be compiled again. `steps` must be at least 2 (one step to fire at, one to train after).
 */
export const shorten = (resolved: unknown, steps: number): Json => {
  if (!isObject(resolved)) return {}
  const p: Json = structuredClone(resolved)
  const train = isObject(p["train"]) ? p["train"] : {}
  const total = num(train["steps"]) ?? steps
  const n = Math.max(2, Math.round(steps))
  const scale = (s: number) => Math.round((s * n) / Math.max(1, total))
  const every = (s: number | undefined) => (s === undefined ? undefined : Math.max(1, scale(s)))
  /** A step inside the run (0..n-1), at least `min`. */
  const within = (s: number, min = 0) => Math.min(n - 1, Math.max(min, scale(s)))

  p["train"] = {
    ...train,
    steps: n,
    batchSize: Math.min(num(train["batchSize"]) ?? 8, 8),
    evalEvery: num(train["evalEvery"]) === 0 ? 0 : Math.max(1, Math.ceil(n / 2)),
    evalBatches: 1,
    logEvery: 1,
    checkpointEvery: Math.max(1, Math.ceil(n / 2))
  }

  const optimizer = p["optimizer"]
  if (isObject(optimizer) && isObject(optimizer["schedule"])) {
    const schedule = optimizer["schedule"]
    const warm = num(schedule["warmupSteps"])
    if (warm !== undefined) optimizer["schedule"] = { ...schedule, warmupSteps: Math.min(n, Math.max(warm > 0 ? 1 : 0, scale(warm))) }
  }

  if (Array.isArray(p["recycling"])) {
    p["recycling"] = p["recycling"].map((stage) => {
      if (!isObject(stage) || !isObject(stage["schedule"])) return stage
      const s = stage["schedule"]
      const from = within(num(s["from"]) ?? num(s["every"]) ?? 1, num(s["from"]) === 0 ? 0 : 1)
      const until = num(s["until"])
      return {
        ...stage,
        schedule: {
          ...s,
          every: every(num(s["every"])) ?? 1,
          from,
          ...(until !== undefined ? { until: Math.max(from, within(until)) } : {})
        }
      }
    })
  }

  if (Array.isArray(p["probes"])) {
    p["probes"] = p["probes"].map((probe) => (isObject(probe) && num(probe["every"]) !== undefined ? { ...probe, every: every(num(probe["every"])) } : probe))
  }

  if (Array.isArray(p["hooks"])) p["hooks"] = p["hooks"].map((hook) => (isObject(hook) ? shortenHook(hook, n, scale, within) : hook))
  return p
}
