/**
 * `manifest.json`: what ran, where, with what, and how it ended. Written atomically at the start
 * (status `running`), after each checkpoint, and at the end (`finished`, `failed` or
 * `interrupted`, with the exit code the CLI returns). A run killed with SIGKILL keeps `running`
 * and a stale lock, which `rekindle resume` recognises.
 */
import type { BackendInfo } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import { execFileSync } from "node:child_process"
import { createRequire } from "node:module"
import * as fsSync from "node:fs"
import * as os from "node:os"
import * as nodePath from "node:path"
import { hashOf, type Manifest } from "./RunFolder.ts"
import * as Files from "./Files.ts"

const git = (args: ReadonlyArray<string>): string | undefined => {
  try {
    return execFileSync("git", [...args], { stdio: ["ignore", "pipe", "ignore"], timeout: 5000 }).toString().trim()
  } catch {
    return undefined
  }
}

/** The git commit of the working directory and whether it has uncommitted changes (if it is a repository). */
export const gitState = (): { readonly commit?: string; readonly dirty?: boolean } => {
  const commit = git(["rev-parse", "HEAD"])
  if (commit === undefined) return {}
  const status = git(["status", "--porcelain", "--untracked-files=no"])
  return { commit, ...(status !== undefined ? { dirty: status !== "" } : {}) }
}

const require = createRequire(import.meta.url)

/** The version of an installed package (found by walking up from its entry point), if any. */
const versionOf = (name: string): string | undefined => {
  try {
    let dir = nodePath.dirname(require.resolve(name))
    for (let i = 0; i < 8; i++) {
      const file = nodePath.join(dir, "package.json")
      if (fsSync.existsSync(file)) {
        const pkg = JSON.parse(fsSync.readFileSync(file, "utf8")) as { name?: string; version?: string }
        if (pkg.name === name && typeof pkg.version === "string") return pkg.version
      }
      dir = nodePath.dirname(dir)
    }
  } catch {
    // not installed
  }
  return undefined
}

/** Packages whose versions a manifest records (those that decide numbers or data). */
export const recordedPackages = [
  "@rekindle/core",
  "@rekindle/training",
  "@rekindle/recycling",
  "@rekindle/run",
  "@rekindle/model",
  "@rekindle/data",
  "@rekindle/engine",
  "@rekindle/plugin-optim",
  "@rekindle/plugin-select",
  "@rekindle/plugin-reinit",
  "@tensorflow/tfjs-core",
  "@tensorflow/tfjs-backend-cpu",
  "@tensorflow/tfjs-backend-wasm",
  "@tensorflow/tfjs-node",
  "tokenizers",
  "effect"
] as const

/** Versions of the recorded packages that are installed. */
export const versions = (): Record<string, string> => {
  const out: Record<string, string> = { rekindle: "0.1.0" }
  for (const name of recordedPackages) {
    const v = name === "@tensorflow/tfjs-core" ? tf.version_core : versionOf(name)
    if (v !== undefined) out[name] = v
  }
  return out
}

/** Everything a manifest records that does not change during a run. */
export interface Base {
  readonly name: string
  readonly resolved: unknown
  readonly seed: number
  readonly steps: number
  readonly backend: BackendInfo
  /** The pipeline file the run came from, if any (resume and reproduce load its plugins). */
  readonly source?: string
  readonly startedAt: string
}

/** The manifest's fixed part (hash, versions, platform, git). */
export const make = (base: Base): Omit<Manifest, "status" | "stepsDone"> => {
  const g = gitState()
  return {
    name: base.name,
    pipelineHash: hashOf(base.resolved),
    pipeline: base.resolved,
    seed: base.seed,
    startedAt: base.startedAt,
    steps: base.steps,
    backend: { name: base.backend.name, threads: base.backend.threads, simd: base.backend.simd, overrides: base.backend.overrides },
    versions: versions(),
    node: process.version,
    platform: { os: process.platform, arch: process.arch, cpus: os.cpus().length, host: os.hostname() },
    ...(g.commit !== undefined ? { git: g.commit } : {}),
    ...(g.dirty !== undefined ? { gitDirty: g.dirty } : {}),
    ...(base.source !== undefined ? { source: base.source } : {})
  }
}

/** Writes a manifest atomically and durably. */
export const write = (file: string, manifest: Manifest) => Files.writeTextAtomic(file, JSON.stringify(manifest, null, 2) + "\n")

/** Exit codes the CLI returns, recorded in the manifest's `exit`. */
export const exitCodes = { finished: 0, failed: 1, interrupted: 130 } as const

/** The `exit` record for a final status. */
export const exitOf = (status: "finished" | "failed" | "interrupted"): Manifest["exit"] => ({ status, code: exitCodes[status] })
