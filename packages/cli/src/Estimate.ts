/**
 * The arithmetic of a study's time estimate: durations as `--budget` takes them and as progress
 * lines print them, a cell's expected wall time from a measured speed, the wall time of cells run
 * `jobs` at a time, and the ETA while they run (refined by how long finished cells really took).
 */

/** What a calibration (or the cells measured so far) says about speed. */
export interface Speed {
  /** Wall milliseconds per training step. */
  readonly msPerStep: number
  /** Wall milliseconds a cell costs besides its steps (loading its data, evaluations, checkpoints). */
  readonly msPerCell: number
  /** Wall milliseconds a process running cells takes to start (the CLI, the engine), once per job. */
  readonly msPerProcess: number
}

/** A cell's expected wall time (ms) at a speed. */
export const cellMs = (speed: Speed, steps: number): number => speed.msPerCell + speed.msPerStep * steps

/**
 * Wall time (ms) of running `durations` in order, `jobs` at a time, each started on the first free
 * slot (as a pool of workers takes a queue); `busy` are the remaining times of cells already
 * running, which hold their slots first.
 */
export const makespan = (durations: ReadonlyArray<number>, jobs: number, busy: ReadonlyArray<number> = []): number => {
  const slots = Array.from({ length: Math.max(1, jobs, busy.length) }, (_, i) => Math.max(0, busy[i] ?? 0))
  for (const d of durations) {
    let free = 0
    for (let i = 1; i < slots.length; i++) if (slots[i]! < slots[free]!) free = i
    slots[free]! += d
  }
  return Math.max(...slots)
}

/** Wall time (ms) of running cells of these step counts, `jobs` at a time, each job in a process started first. */
export const total = (speed: Speed, steps: ReadonlyArray<number>, jobs: number): number => {
  const processes = Math.min(jobs, steps.length)
  return steps.length === 0 ? 0 : makespan(steps.map((s) => cellMs(speed, s)), processes, Array.from({ length: processes }, () => speed.msPerProcess))
}

/**
 * How much longer than estimated cells take, from the cells finished so far: Σ actual / Σ
 * estimated (1 before any has finished). Remaining estimates are multiplied by it.
 */
export const correction = (finished: ReadonlyArray<{ readonly estimatedMs: number; readonly actualMs: number }>): number => {
  const estimated = finished.reduce((a, f) => a + f.estimatedMs, 0)
  const actual = finished.reduce((a, f) => a + f.actualMs, 0)
  return estimated > 0 && actual > 0 ? actual / estimated : 1
}

/**
 * The ETA (ms from now): the queued cells' estimates and the running cells' remaining time
 * (estimate minus elapsed, at least nothing), all scaled by `factor`, `jobs` at a time.
 */
export const eta = (o: {
  readonly queued: ReadonlyArray<number>
  readonly running: ReadonlyArray<{ readonly estimatedMs: number; readonly elapsedMs: number }>
  readonly jobs: number
  readonly factor: number
}): number =>
  makespan(
    o.queued.map((d) => d * o.factor),
    o.jobs,
    o.running.map((r) => Math.max(0, r.estimatedMs * o.factor - r.elapsedMs))
  )

const units: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  sec: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  d: 86_400_000
}

/**
 * Parses a duration: a number with a unit (`90s`, `45m`, `1.5h`, `2d`), or several (`1h30m`); a
 * bare number is minutes. Undefined when the text is not a duration.
 */
export const parseDuration = (text: string): number | undefined => {
  const t = text.trim().toLowerCase()
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 60_000
  const parts = [...t.matchAll(/(\d+(?:\.\d+)?)\s*([a-z]+)/g)]
  if (parts.length === 0 || parts.map((p) => p[0]).join("").replace(/\s+/g, "") !== t.replace(/\s+/g, "")) return undefined
  let ms = 0
  for (const [, n, unit] of parts) {
    const u = units[unit!]
    if (u === undefined) return undefined
    ms += Number(n) * u
  }
  return ms
}

/** A duration for people: `45 s`, `12 min`, `1 h 05 min`. */
export const formatDuration = (ms: number): string => {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 60) return `${s} s`
  const m = Math.round(s / 60)
  if (m < 60) return `${m} min`
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`
}
