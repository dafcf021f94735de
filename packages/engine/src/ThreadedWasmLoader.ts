/**
 * Loader shim that lets `@tensorflow/tfjs-backend-wasm` 4.22.0 run its threaded-SIMD binary under
 * Node (the "force-mt" shim of the prototype).
 *
 * Stock 4.22 answers `WASM_HAS_MULTITHREAD_SUPPORT = false` whenever `IS_NODE` (tfjs issue #3830),
 * so `setThreadsCount(n)` does nothing and one thread runs. Forcing the flag alone fails too:
 *  1. the emscripten glue starts its pthread workers from `blob:` URLs, which `node:worker_threads`
 *     rejects. The shim records the text of the two blobs the glue creates and turns
 *     `URL.createObjectURL(blob)` into a temp `.cjs` file; inside a worker, the main-script blob
 *     resolves to a temp copy of `wasm-out/tfjs-backend-wasm-threaded-simd.js` (the bundled
 *     `factory.toString()` is not self-contained);
 *  2. the C++ side caps its pthreadpool at `emscripten_num_logical_cores() / 2` (it assumes SMT),
 *     which is 1 on a 2-vCPU machine: {@link withCpuCount} reports more cores during the init.
 *
 * Install before the wasm backend initialises. Every step throws on failure; the wasm provider
 * catches that and falls back to one thread.
 */
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as os from "node:os"
import * as path from "node:path"

const require = createRequire(import.meta.url)

/** Marker of the blob holding the threaded factory source (the worker's main script). */
const mainScriptMarker = "var WasmBackendModuleThreadedSimd"
/** Marker of the blob holding the pthread worker script. */
const workerScriptMarker = "WasmBackendModuleThreadedSimd(Module)"

/** What the installed shim wrote and where. */
export interface Shim {
  /** Temp folder holding `main.cjs` and `worker.cjs`. */
  readonly dir: string
  /** The copy of the threaded factory script the workers import. */
  readonly mainScript: string
}

const installedKey = Symbol.for("rekindle/engine/threaded-wasm-shim")
type GlobalWithShim = typeof globalThis & { [installedKey]?: Shim }

/** Where the standalone threaded-SIMD factory script of tfjs-backend-wasm lives. */
export const threadedFactoryScript = (): string =>
  require.resolve("@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js")

/** The installed shim, if any. */
export const installed = (): Shim | undefined => (globalThis as GlobalWithShim)[installedKey]

/**
 * Installs the shim (idempotent; the second call returns the first shim). Patches `globalThis.Blob`
 * (a subclass that remembers the text of all-string blobs that carry the markers) and
 * `URL.createObjectURL` (marked worker blobs become temp files; everything else goes to the
 * original). Throws if the factory script cannot be found or the temp files cannot be written.
 */
export const install = (): Shim => {
  const g = globalThis as GlobalWithShim
  const existing = g[installedKey]
  if (existing !== undefined) return existing
  const source = threadedFactoryScript()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-wasm-mt-"))
  const mainScript = path.join(dir, "main.cjs")
  fs.writeFileSync(mainScript, fs.readFileSync(source, "utf8"))
  process.once("exit", () => fs.rmSync(dir, { recursive: true, force: true }))

  const texts = new WeakMap<Blob, string>()
  const OriginalBlob = globalThis.Blob
  type BlobParts = ConstructorParameters<typeof Blob>[0]
  type BlobOptions = ConstructorParameters<typeof Blob>[1]
  class RecordingBlob extends OriginalBlob {
    constructor(parts?: BlobParts, options?: BlobOptions) {
      super(parts ?? [], options)
      if (parts !== undefined && parts.every((p) => typeof p === "string")) {
        const text = parts.join("")
        if (text.startsWith(mainScriptMarker) || text.includes(workerScriptMarker)) texts.set(this, text)
      }
    }
  }
  globalThis.Blob = RecordingBlob

  const originalCreate = URL.createObjectURL.bind(URL)
  URL.createObjectURL = (obj: Blob): string => {
    const text = obj instanceof OriginalBlob ? texts.get(obj) : undefined
    if (text !== undefined && text.includes(workerScriptMarker)) {
      // Inside the worker, the main-script blob arrives structured-cloned (its text is not
      // recorded there): point it at the standalone copy of the factory instead.
      const prefix = `URL.createObjectURL=function(){return ${JSON.stringify(mainScript)}};URL.revokeObjectURL=function(){};`
      const worker = path.join(dir, "worker.cjs")
      fs.writeFileSync(worker, prefix + text)
      return worker
    }
    return originalCreate(obj)
  }
  const shim: Shim = { dir, mainScript }
  g[installedKey] = shim
  return shim
}

/** The `os` module object the emscripten glue reads `cpus()` from (CommonJS `require("os")`). */
const osModule: { cpus: typeof os.cpus } = require("node:os")

/**
 * Runs `f` while `os.cpus()` reports at least `count` entries, then restores it. The threaded
 * binary sizes its pool as half the logical cores; call with `2 * threads` around the backend init.
 */
export const withCpuCount = async <A>(count: number, f: () => Promise<A>): Promise<A> => {
  const real = osModule.cpus
  const cpus = real()
  const first = cpus[0]
  if (first !== undefined && cpus.length < count) {
    osModule.cpus = () => Array.from({ length: count }, () => first)
  }
  try {
    return await f()
  } finally {
    osModule.cpus = real
  }
}
