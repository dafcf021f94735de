/**
 * `rekindle bench`: the benchmark (Bench.ts) as a CLI subcommand, with the native backends of
 * `@rekindle/plugin-backend-node` available (`--backend node` / `node-gpu` where installed).
 * Re-executes the process with GLIBC_TUNABLES=glibc.malloc.hugetlb=1 when it is unset, like
 * `npm run bench` (`--no-hugetlb` keeps the environment).
 */
import { Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { reexecWithHugetlb } from "./Hugetlb.ts"

// the benchmark and the native backends load when the command runs, not when the CLI starts
const load = Effect.promise(() => Promise.all([import("./Bench.ts"), import("@rekindle/plugin-backend-node")]))

const optionalInt = (name: string, description: string) => Flag.Int(name).pipe(Flag.withDescription(description), Flag.optional)

/** The `bench` command. */
export const bench = Command.make(
  "bench",
  {
    config: Flag.String("config").pipe(Flag.withDescription("tiny, reference, wide, a comma list, or all (default: reference)"), Flag.withDefault("reference")),
    backend: Flag.String("backend").pipe(Flag.withDescription("auto, wasm, cpu, node, node-gpu (default: auto)"), Flag.withDefault("auto")),
    threads: optionalInt("threads", "Threads for the wasm backend (default: the available cores)"),
    steps: Flag.Int("steps").pipe(Flag.withDescription("Timed steps per measurement (default: 6)"), Flag.withDefault(6)),
    warmup: Flag.Int("warmup").pipe(Flag.withDescription("Untimed warm-up steps (default: 2)"), Flag.withDefault(2)),
    peers: Flag.Boolean("peers").pipe(Flag.withDescription("Also time bench/peers/pytorch_reference.py (needs python3 with torch) and print the ratio"), Flag.withDefault(false)),
    memory: optionalInt("memory", "Memory check instead: train this many steps, sampling RSS and live tensors"),
    every: optionalInt("every", "Memory check: sample every N steps (default: steps / 20)"),
    noHugetlb: Flag.Boolean("no-hugetlb").pipe(Flag.withDescription("Do not re-run with GLIBC_TUNABLES=glibc.malloc.hugetlb=1"), Flag.withDefault(false))
  },
  Effect.fn("bench")(function*(f) {
    if (!f.noHugetlb) reexecWithHugetlb(process.argv.slice(2))
    const opt = (o: Option.Option<number>) => Option.getOrUndefined(o)
    const threads = opt(f.threads)
    const memory = opt(f.memory)
    const every = opt(f.every)
    const [{ program }, { providers }] = yield* load
    yield* program({
      config: f.config,
      backend: f.backend,
      steps: f.steps,
      warmup: f.warmup,
      peers: f.peers,
      ...(threads !== undefined ? { threads } : {}),
      ...(memory !== undefined ? { memory } : {}),
      ...(every !== undefined ? { every } : {})
    }, providers)
  })
).pipe(Command.withDescription("Benchmark training speed (tokens/s, step breakdown, overhead, recycling, memory) on the selected backend"))
