/**
 * `npm run bench`: the benchmark program (see Bench.ts) as a process.
 *
 *   npm run bench -- [--config tiny|reference|wide|all] [--backend auto|wasm|cpu] [--threads N]
 *                    [--blas auto|openblas|none|PATH|none,openblas] [--blas-threads N]
 *                    [--steps N] [--warmup N] [--peers [--rounds R]] [--memory STEPS [--every N]]
 *
 * Sets GLIBC_TUNABLES=glibc.malloc.hugetlb=1 by re-executing itself when it is unset (fewer
 * page faults on the project's VMs, see docs/performance.md); `--no-hugetlb` or an explicit
 * GLIBC_TUNABLES (even empty) keeps the environment as it is. Bad input (an unknown config, an
 * unavailable backend) prints `error: ...` and exits with 2.
 */
import { NodeRuntime } from "@effect/platform-node"
import { formatUserError } from "@rekindle/core"
import { providers } from "@rekindle/plugin-backend-node"
import { Console, Effect } from "effect"
import { parseArgs, program } from "./Bench.ts"
import { reexecWithHugetlb } from "./Hugetlb.ts"

const argv = process.argv.slice(2)
if (!reexecWithHugetlb(argv)) {
  NodeRuntime.runMain(program(parseArgs(argv), providers).pipe(
    // bad input: the message and exit code 2, no stack trace
    Effect.catchTag("UserError", (e) => Console.error(formatUserError(e)).pipe(Effect.as(2))),
    Effect.map((code) => {
      process.exitCode = code
    })
  ), { disableErrorReporting: false, teardown: (_exit, onExit) => {
    onExit(Number(process.exitCode ?? 0))
    setImmediate(() => process.exit(Number(process.exitCode ?? 0)))
  } })
}
