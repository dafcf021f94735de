/**
 * Re-running the current process with `GLIBC_TUNABLES=glibc.malloc.hugetlb=1` (glibc's malloc then
 * asks for transparent huge pages: far fewer page faults, which are slow on the project's VMs).
 * Only when GLIBC_TUNABLES is unset and `--no-hugetlb` was not given; glibc reads it at startup,
 * so it cannot be set from inside a running process.
 */
import { spawnSync } from "node:child_process"

/** The tunable the benchmark and the CLI set. */
const tunable = "glibc.malloc.hugetlb=1"

/**
 * Re-executes this process with the tunable and exits with the child's code (returns `true`
 * after starting it, never in practice since it exits); returns `false` when nothing was done.
 */
export const reexecWithHugetlb = (argv: ReadonlyArray<string>): boolean => {
  if (process.env["GLIBC_TUNABLES"] !== undefined || argv.includes("--no-hugetlb") || process.platform !== "linux") return false
  const r = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: "inherit",
    env: { ...process.env, GLIBC_TUNABLES: tunable }
  })
  if (r.error !== undefined) return false
  process.exit(r.status ?? 1)
}
