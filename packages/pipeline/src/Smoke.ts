/**
 * Smoke runs (`rekindle run <file> --smoke [N]`): a resolved pipeline shortened to N training steps
 * with every scheduled thing compressed so each still happens at least once: recycling stages,
 * probes, evaluations, checkpoints, the pruning ramp, the retraining window, optimizer warm-up.
 * Steps are scaled by N / train.steps and clamped into the run; the model, data, parts and their
 * options stay as they are, so a smoke run exercises the same code paths as the full run, in
 * seconds. Batches are capped at 8 sequences and evaluation at one batch.
 */

type Json = Record<string, unknown>

const isObject = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)
const num = (u: unknown): number | undefined => (typeof u === "number" && Number.isFinite(u) ? u : undefined)

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

  const pruning = p["pruning"]
  if (isObject(pruning)) {
    const from = within(num(pruning["from"]) ?? 0)
    p["pruning"] = {
      ...pruning,
      from,
      until: Math.max(from, within(num(pruning["until"]) ?? n - 1)),
      ...(num(pruning["every"]) !== undefined ? { every: every(num(pruning["every"])) } : {})
    }
  }

  const retrain = p["retrain"]
  if (isObject(retrain)) {
    const at = Math.min(n - 1, Math.max(1, scale(num(retrain["at"]) ?? 1)))
    const length = Math.max(1, Math.min(n - at, scale(num(retrain["steps"]) ?? 1)))
    p["retrain"] = {
      ...retrain,
      at,
      steps: length,
      ...(num(retrain["warmup"]) !== undefined ? { warmup: Math.min(length, scale(num(retrain["warmup"])!)) } : {})
    }
  }
  return p
}
