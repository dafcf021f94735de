/**
 * The benchmark program behind `npm run bench`: trains the benchmark
 * configurations on the selected backend and prints a table plus one JSON line per configuration;
 * optionally the PyTorch peer's rate on the same machine and threads (and the ratio), or the
 * long-run memory check. Not a test: no thresholds are asserted; targets live in
 * docs/performance.md.
 *
 *   [--config tiny|reference|wide|all] [--backend auto|wasm|cpu|node|node-gpu] [--threads N]
 *   [--blas auto|openblas|none|PATH|none,openblas] [--blas-threads N]
 *   [--steps N] [--warmup N] [--peers [--rounds R]] [--memory STEPS [--every N]]
 *
 * `--peers` runs the PyTorch peer once after each configuration's table row (the table's tokens/s
 * against it), then `--rounds` (default 5; 0: none) rounds of the duel (PeerDuel.ts): blocks of
 * `--steps` framework steps and peer runs alternated, the median and range of the rounds' ratios.
 *
 * `--blas` takes a comma list: each configuration is then measured on each BLAS path in turn in
 * the same process (e.g. `none,openblas`: XNNPACK, then OpenBLAS), against the same peer run.
 */
import * as os from "node:os"
import { type BackendProvider, type BlasInfo, UserError } from "@rekindle/core"
import { Backends } from "@rekindle/engine"
import { Console, Effect } from "effect"
import { flag } from "./Args.ts"
import { type BenchConfig, configs } from "./Configs.ts"
import * as Memory from "./Memory.ts"
import { pytorchPeer } from "./Peer.ts"
import { duel } from "./PeerDuel.ts"
import { type BenchResult, run } from "./Run.ts"

/** Parsed command-line options. */
export interface BenchArgs {
  readonly config: string
  readonly backend: string
  readonly threads?: number
  /** BLAS choices (wasm), measured in turn; default `["auto"]`. */
  readonly blas: ReadonlyArray<string>
  readonly blasThreads?: number
  readonly steps: number
  readonly warmup: number
  readonly peers: boolean
  /** With `peers`: rounds of the interleaved duel against the peer (PeerDuel.ts); 0 skips it. */
  readonly rounds: number
  readonly memory?: number
  readonly every?: number
}

/** Parses `--name value` flags (unknown flags are ignored). */
export const parseArgs = (argv: ReadonlyArray<string>): BenchArgs => {
  const num = (name: string): number | undefined => {
    const v = flag(argv, name)
    return v === undefined ? undefined : Number(v)
  }
  const [threads, blasThreads, memory, every] = [num("threads"), num("blas-threads"), num("memory"), num("every")]
  return {
    config: flag(argv, "config") ?? "reference",
    backend: flag(argv, "backend") ?? "auto",
    ...(threads !== undefined ? { threads } : {}),
    blas: (flag(argv, "blas") ?? "auto").split(",").filter((b) => b !== ""),
    ...(blasThreads !== undefined ? { blasThreads } : {}),
    steps: num("steps") ?? 6,
    warmup: num("warmup") ?? 2,
    peers: argv.includes("--peers"),
    rounds: num("rounds") ?? 5,
    ...(memory !== undefined ? { memory } : {}),
    ...(every !== undefined ? { every } : {})
  }
}

const fmt = (x: number, digits = 1) => x.toFixed(digits)

const header = "config     tokens/s  step ms (min-max)      fwd    bwd    opt  other    log  probes+log  recycle (vs step)  grad-signals taylor/snip (CPU)       bare ms  overhead  GFLOP/s  matmul GFLOP/s  eff/mm  mm med  eff/mm med  load  RSS MB  tensors"

const row = (r: BenchResult): string =>
  `${r.config.padEnd(10)} ${fmt(r.tokensPerSec, 0).padStart(8)}  ${fmt(r.stepMs.median, 0).padStart(6)} (${fmt(r.stepMs.min, 0)}-${fmt(r.stepMs.max, 0)})`.padEnd(44) +
  ` ${fmt(r.forwardMs, 0).padStart(6)} ${fmt(r.backwardMs, 0).padStart(6)} ${fmt(r.optimizerMs, 0).padStart(6)} ${fmt(r.otherMs, 0).padStart(6)} ${fmt(r.loggingMs, 1).padStart(6)}` +
  ` ${(fmt(r.probesAndSinksVsStep * 100, 2) + "%").padStart(11)}` +
  ` ${fmt(r.recyclingMs.median, 0).padStart(8)} (${fmt(r.recyclingVsStep * 100, 0)}%)`.padEnd(19) +
  ` ${r.gradientSignals.arms.map((a) => fmt(a.overhead * 100, 1) + "%").join(" / ")} (${r.gradientSignals.arms.map((a) => fmt(a.cpuOverhead * 100, 1) + "%").join(" / ")})`.padStart(37) +
  ` ${fmt(r.bareStepMs.median, 0).padStart(8)} ${(fmt(r.overhead * 100, 1) + "%").padStart(9)} ${fmt(r.effectiveGflops).padStart(8)}` +
  ` ${fmt(r.matmulGflops).padStart(15)} ${(fmt(r.effectiveVsMatmul * 100, 0) + "%").padStart(7)}` +
  ` ${fmt(r.matmulGflopsInterleaved).padStart(7)} ${(fmt(r.effectiveVsMatmulInterleaved * 100, 0) + "%").padStart(11)}` +
  ` ${`${fmt(r.loadAverage[0], 1)}-${fmt(r.loadAverage[1], 1)}`.padStart(9)}` +
  ` ${fmt(r.peakRssMb, 0).padStart(7)} ${String(r.tensorsAlive).padStart(8)}`

/** Which path the wasm matrix products take, and why (printed before the table). */
const blasLine = (b: BlasInfo): string =>
  b.library === "none"
    ? `BLAS path: ${b.reason}`
    : `BLAS path: ${b.library} ${b.version ?? ""} (core ${b.coreType ?? "?"}, ${b.threads ?? "?"} threads), sgemm on the wasm heap; ${b.reason}`

/** The duel against the peer on the current backend, printed as a line and a JSON line. */
const duelLines = (c: BenchConfig, a: BenchArgs, info: { threads: number; blas?: BlasInfo }) =>
  duel(c, { steps: a.steps, warmup: a.warmup, rounds: a.rounds }, info.threads).pipe(
    Effect.flatMap((d) =>
      Effect.gen(function*() {
        const path = info.blas === undefined ? "" : ` (${info.blas.library === "none" ? "pure wasm" : info.blas.library})`
        yield* Console.log(
          `  duel${path}, ${d.rounds.length} rounds of ${a.steps} steps alternated: rekindle / pytorch = ${fmt(d.ratio.median, 2)} median ` +
            `(range ${fmt(d.ratio.min, 2)}-${fmt(d.ratio.max, 2)}; rounds ${d.rounds.map((r) => fmt(r.ratio, 2)).join(", ")}); ` +
            `step ${fmt(d.rekindleMs.median, 0)} vs ${fmt(d.peerMs.median, 0)} ms`
        )
        yield* Console.log(JSON.stringify({ bench: "peer-duel", config: c.name, steps: a.steps, ...d }))
      })
    ),
    Effect.catchTag("PeerUnavailable", (e) => Console.log(`  duel: peer not available (${e.reason})`))
  )

/** The benchmark program; `providers` adds backends (the CLI passes its plugins' ones). */
export const program = (a: BenchArgs, providers: ReadonlyArray<BackendProvider> = []) =>
  Effect.gen(function*() {
    const names = a.config === "all" ? Object.keys(configs) : a.config.split(",")
    const unknown = names.filter((n) => configs[n] === undefined)
    if (unknown.length > 0) {
      const message = `expected one of ${Object.keys(configs).join(", ")}, all (or a comma list), got "${unknown.join(", ")}"`
      return yield* new UserError({ message: `config: ${message}`, problems: [{ path: "config", message }] })
    }
    const request = (blas: string) => ({
      name: a.backend,
      ...(a.threads !== undefined ? { threads: a.threads } : {}),
      blas,
      ...(a.blasThreads !== undefined ? { blasThreads: a.blasThreads } : {})
    })
    let info = yield* Backends.init(request(a.blas[0] ?? "auto"), providers)
    const tunables = process.env["GLIBC_TUNABLES"] ?? "(unset)"
    if (a.memory !== undefined) {
      const c = configs[names[0]!]!
      const every = a.every ?? Math.max(1, Math.round(a.memory / 20))
      yield* Console.log(`memory check: ${c.name}, ${a.memory} steps, backend ${info.name} (${info.threads} threads), GLIBC_TUNABLES ${tunables}`)
      yield* Console.log("  step   RSS MB  heap MB  tensors  ms/step")
      const samples = Memory.check(c, a.memory, every, (s) =>
        console.log(`${String(s.step).padStart(6)} ${fmt(s.rssMb, 0).padStart(8)} ${fmt(s.heapMb, 0).padStart(8)} ${String(s.tensors).padStart(8)} ${fmt(s.msPerStep, 0).padStart(8)}`))
      // growth over the second half of the run (the first steps fill allocator pools and caches)
      const secondHalf = samples.filter((s) => s.step >= a.memory! / 2)
      const rss = secondHalf.map((s) => s.rssMb)
      const tensors = new Set(samples.filter((s) => s.step > 1).map((s) => s.tensors))
      const growth = rss.length > 0 ? rss[rss.length - 1]! - rss[0]! : 0
      yield* Console.log(`RSS growth over the second half: ${fmt(growth, 1)} MB; live tensors ${tensors.size === 1 ? "flat" : "NOT flat"}`)
      yield* Console.log(JSON.stringify({
        bench: "memory", config: c.name, steps: a.memory, samples,
        rssGrowthSecondHalfMb: growth, tensorCountFlat: tensors.size === 1
      }))
      return 0
    }
    yield* Console.log(
      `backend ${info.name}, ${info.threads} thread(s), simd ${info.simd}, overrides ${info.overrides}; ${a.steps} timed steps after ${a.warmup} warm-up; GLIBC_TUNABLES ${tunables}; OMP_WAIT_POLICY ${process.env["OMP_WAIT_POLICY"] ?? "(unset)"}`
    )
    if (info.blas !== undefined && a.blas.length === 1) yield* Console.log(blasLine(info.blas))
    yield* Console.log(header)
    for (const name of names) {
      const results: Array<readonly [string, BenchResult]> = []
      for (const blas of a.blas) {
        if (a.blas.length > 1) {
          info = yield* Backends.init(request(blas), providers)
          yield* Console.log(info.blas === undefined ? `(blas ${blas}: not a wasm backend)` : blasLine(info.blas))
        }
        const r = yield* run(configs[name]!, { steps: a.steps, warmup: a.warmup }, info)
        yield* Console.log(row(r))
        yield* Console.log(JSON.stringify({ bench: "train-step", ...r, ...(info.blas === undefined ? {} : { blas: info.blas }) }))
        results.push([info.blas?.library ?? blas, r])
      }
      if (a.peers) {
        const peer = pytorchPeer(name, info.threads, a.steps, a.warmup)
        if ("error" in peer) yield* Console.log(`  pytorch peer: not available (${peer.error})`)
        else {
          const ratios = results.map(([lib, r]) => `${results.length > 1 ? `${lib}: ` : ""}${fmt(r.tokensPerSec / peer.tokensPerSec, 2)}`)
          yield* Console.log(`  pytorch peer: ${fmt(peer.tokensPerSec, 0)} tokens/s; rekindle / pytorch = ${ratios.join(", ")} (load average after the peer: ${fmt(os.loadavg()[0]!, 1)})`)
          yield* Console.log(peer.line)
          if (a.rounds > 0) yield* duelLines(configs[name]!, a, info)
        }
      }
    }
    return 0
  })
