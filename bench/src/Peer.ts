/**
 * The PyTorch peer: bench/peers/pytorch_reference.py (the same model, batch, Adam and thread
 * count as a benchmark configuration) run as a child process, its JSON line parsed.
 */
import { spawnSync } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

/** What one peer run measured: its median step, tokens/s and the JSON line it printed. */
export interface PeerRun {
  readonly tokensPerSec: number
  readonly stepMs: number
  readonly line: string
}

/**
 * Runs the peer on `config` with `threads` threads for `warmup` + `steps` steps; the result, or
 * why there is none. The interpreter: REKINDLE_PYTHON, else the first of `python3` on PATH and the
 * system's `/usr/bin/python3` (Debian's python3-torch) that has torch.
 */
export const pytorchPeer = (config: string, threads: number, steps: number, warmup: number): PeerRun | { error: string } => {
  const pythons = process.env["REKINDLE_PYTHON"] !== undefined ? [process.env["REKINDLE_PYTHON"]] : ["python3", "/usr/bin/python3"]
  let last: { error: string } = { error: "no python3" }
  for (const python of pythons) {
    const r = peerWith(python, config, threads, steps, warmup)
    if (!("error" in r)) return r
    last = r
    if (!/No module named 'torch'|ENOENT/.test(r.error)) return r
  }
  return last
}

const peerWith = (python: string, config: string, threads: number, steps: number, warmup: number): PeerRun | { error: string } => {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "peers", "pytorch_reference.py")
  const r = spawnSync(python, [script, "--config", config, "--threads", String(threads), "--steps", String(steps), "--warmup", String(warmup)], {
    encoding: "utf8",
    env: { GLIBC_TUNABLES: "glibc.malloc.hugetlb=1", ...process.env }
  })
  if (r.error !== undefined) return { error: `${python}: ${r.error.message}` }
  const line = r.stdout.split("\n").find((l) => l.startsWith("{"))
  if (r.status !== 0 || line === undefined) return { error: (r.stderr.trim().split("\n").pop() ?? `exit ${r.status}`).slice(0, 200) }
  const parsed = JSON.parse(line) as { tokensPerSec: number; stepMs: { median: number } }
  return { tokensPerSec: parsed.tokensPerSec, stepMs: parsed.stepMs.median, line }
}
