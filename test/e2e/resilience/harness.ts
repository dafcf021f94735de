/**
 * Fixtures for the reproducibility and resilience tests: a tiny project (a generated corpus, a
 * fixed vocab.txt so no tokenizer is trained, a pipeline JSON with stateful recycling), the
 * `rekindle` bin as a child process, and a way to kill it once its events reach a step.
 */
import { Event } from "@rekindle/core"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

/** The rekindle bin. */
export const bin = fileURLToPath(new URL("../../../packages/cli/bin/rekindle.mjs", import.meta.url))

const words = ("the a cat dog runs sleeps on under big small red blue house tree river stone light dark quick slow " +
  "and or but with from into over near far old new warm cold").split(" ")

/** A deterministic pseudo-random generator (tests must not depend on Math.random). */
export const lcg = (seed: number) => {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 4294967296
  }
}

/** Options of the tiny pipeline. */
export interface TinyOptions {
  readonly name?: string
  readonly backend?: { readonly name: string; readonly threads?: number; readonly blas?: string; readonly blasThreads?: number }
  readonly steps?: number
  readonly checkpointEvery?: number
  readonly dFF?: number
  readonly lr?: number
  readonly recycling?: boolean
  /**
   * Gradient criteria on GLU layers instead: SwiGLU FF, `select/taylor` acting (mean since the last
   * firing) with a `select/snip` shadow (EMA), both measured inside the training steps.
   */
  readonly gradient?: boolean
  /** The sinks (default: events.jsonl only). */
  readonly log?: ReadonlyArray<{ readonly use: string }>
}

/** Writes corpus.txt, vocab.txt and a pipeline JSON under `dir`; returns the pipeline (as JSON) and its file. */
export const tinyProject = (dir: string, o: TinyOptions = {}) => {
  fs.mkdirSync(dir, { recursive: true })
  const rnd = lcg(3)
  const paragraphs = Array.from({ length: 120 }, () =>
    Array.from({ length: 10 + Math.floor(rnd() * 20) }, () => words[Math.floor(rnd() * words.length)]).join(" ") + " .")
  fs.writeFileSync(path.join(dir, "corpus.txt"), paragraphs.join("\n\n") + "\n")
  fs.writeFileSync(path.join(dir, "vocab.txt"), ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", ...words].join("\n") + "\n")
  const pipeline = {
    name: o.name ?? "tiny",
    seed: 7,
    backend: o.backend ?? { name: "cpu" },
    data: {
      corpus: { kind: "text", path: path.join(dir, "corpus.txt") },
      tokenizer: { kind: "file", path: path.join(dir, "vocab.txt"), lowercase: true },
      objective: "mlm",
      evalFraction: 0.2
    },
    model: { dModel: 16, heads: 2, layers: 1, dFF: o.dFF ?? 32, seqLen: 16, ...(o.gradient === true ? { activation: "swiglu" } : {}) },
    optimizer: { use: "optim/adam", lr: o.lr ?? 0.01 },
    train: { steps: o.steps ?? 120, batchSize: 4, evalEvery: 10, evalBatches: 1, logEvery: 3, checkpointEvery: o.checkpointEvery ?? 5 },
    recycling: o.recycling === false ? [] : o.gradient === true ? [{
      schedule: { every: 6, from: 4 },
      select: { use: "select/taylor", fraction: 0.25 },
      reinit: { use: "reinit/smooth", steps: 5 },
      optimizerState: "zero-moments",
      immunity: 1,
      shadow: [{ use: "select/snip", window: "ema", decay: 0.8, every: 2 }]
    }] : [{
      schedule: { every: 6, from: 4 },
      select: { use: "select/utility", fraction: 0.25, every: 2 },
      reinit: { use: "reinit/smooth", steps: 5 },
      optimizerState: "zero-moments-and-step",
      immunity: 2,
      shadow: [{ use: "select/random" }]
    }],
    log: o.log ?? [{ use: "log/jsonl" }]
  }
  const file = path.join(dir, `${pipeline.name}.json`)
  fs.writeFileSync(file, JSON.stringify(pipeline, null, 2))
  return { pipeline, file }
}

/**
 * The lines of a child's stderr that report a problem (warnings, errors, failures), leaving out
 * the console progress every run prints there.
 */
export const problems = (err: string): Array<string> => err.split("\n").filter((l) => /warning|error|fail|refus/i.test(l))

/** What a finished child process did. */
export interface Outcome {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly out: string
  readonly err: string
}

/**
 * Runs `rekindle <args>` (with `env` added to this process's environment); when `until` is given,
 * runs `until.action` and sends `until.signal` once the run folder's events.jsonl holds a
 * TrainStep at or after `until.step` (the folder is found under `until.out`). `where` runs another
 * `rekindle` bin (say, a plugin package's own) from another folder.
 */
export const rekindle = (
  args: ReadonlyArray<string>,
  until?: { readonly out: string; readonly step: number; readonly signal?: NodeJS.Signals; readonly action?: () => void },
  env?: Readonly<Record<string, string>>,
  where?: { readonly bin?: string; readonly cwd?: string }
): Promise<Outcome & { readonly signalled: boolean }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [where?.bin ?? bin, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      ...(where?.cwd !== undefined ? { cwd: where.cwd } : {}),
      ...(env !== undefined ? { env: { ...process.env, ...env } } : {})
    })
    let out = ""
    let err = ""
    let signalled = false
    child.stdout.on("data", (d) => (out += String(d)))
    child.stderr.on("data", (d) => (err += String(d)))
    const timer = until === undefined ? undefined : setInterval(() => {
      if (signalled) return
      const step = lastStep(until.out)
      if (step !== undefined && step >= until.step) {
        signalled = true
        until.action?.()
        if (until.signal !== undefined) child.kill(until.signal)
      }
    }, 5)
    child.on("error", reject)
    child.on("close", (code, signal) => {
      if (timer !== undefined) clearInterval(timer)
      resolve({ code, signal, out, err, signalled })
    })
  })

/** The single run folder under `out` (undefined until it exists). */
export const runFolder = (out: string): string | undefined => {
  if (!fs.existsSync(out)) return undefined
  const dirs = fs.readdirSync(out).filter((n) => !n.startsWith(".") && fs.statSync(path.join(out, n)).isDirectory())
  return dirs.length === 1 ? path.join(out, dirs[0]!) : undefined
}

/** The last TrainStep step in the run folder under `out`, read tolerantly (the file is being written). */
const lastStep = (out: string): number | undefined => {
  const dir = runFolder(out)
  if (dir === undefined) return undefined
  let text: string
  try {
    text = fs.readFileSync(path.join(dir, "events.jsonl"), "utf8")
  } catch {
    return undefined
  }
  const m = [...text.matchAll(/"_tag":"TrainStep","step":(\d+)/g)]
  return m.length === 0 ? undefined : Number(m.at(-1)![1])
}

/** The complete lines of an events file, decoded. */
export const readEvents = (file: string): Array<Event.Event> => {
  const text = fs.readFileSync(file, "utf8")
  const complete = text.slice(0, text.lastIndexOf("\n") + 1)
  return complete.split("\n").filter((l) => l !== "").map(Event.decodeLine)
}

/** Reads a JSON file. */
export const readJson = (file: string): any => JSON.parse(fs.readFileSync(file, "utf8"))
