/**
 * Loader shim that lets `@tensorflow/tfjs-backend-wasm` 4.22.0 run its threaded-SIMD binary under
 * Node (the "force-mt" shim of the prototype).
 *
 * Stock 4.22 answers `WASM_HAS_MULTITHREAD_SUPPORT = false` whenever `IS_NODE` (tfjs issue #3830),
 * so `setThreadsCount(n)` does nothing and one thread runs. Forcing the flag alone fails too:
 *  1. the emscripten glue starts its pthread workers from `blob:` URLs, which `node:worker_threads`
 *     rejects. The shim records the text of the two blobs the glue creates and turns
 *     `URL.createObjectURL(blob)` into a `.cjs` file; inside a worker, the main-script blob
 *     resolves to a copy of `wasm-out/tfjs-backend-wasm-threaded-simd.js` (the bundled
 *     `factory.toString()` is not self-contained);
 *  2. the C++ side caps its pthreadpool at `emscripten_num_logical_cores() / 2` (it assumes SMT),
 *     which is 1 on a 2-vCPU machine: {@link withCpuCount} reports more cores during the init.
 *
 * Install before the wasm backend initialises. Every step throws on failure; the wasm provider
 * catches that and falls back to one thread.
 */
import { createHash, randomBytes } from "node:crypto"
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
  /** The folder holding `main.cjs` and the `worker-<digest>.cjs` scripts. */
  readonly dir: string
  /** The copy of the threaded factory script the workers import. */
  readonly mainScript: string
  /** Whether `dir` is the shared per-user folder (kept, reused by every process) or a private one. */
  readonly shared: boolean
}

const installedKey = Symbol.for("rekindle/engine/threaded-wasm-shim")
type GlobalWithShim = typeof globalThis & { [installedKey]?: Shim }

/** Where the standalone threaded-SIMD factory script of tfjs-backend-wasm lives. */
export const threadedFactoryScript = (): string =>
  require.resolve("@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js")

/** The installed shim, if any. */
export const installed = (): Shim | undefined => (globalThis as GlobalWithShim)[installedKey]

const digest = (text: string): string => createHash("sha256").update(text).digest("hex").slice(0, 16)

/**
 * Makes `file` hold exactly `text`, never showing a reader a partial file: an existing file with
 * that text is left alone (another process or an earlier call wrote it); otherwise the text goes
 * to a unique temporary file that is renamed over `file` (atomic on POSIX).
 */
export const writeOnce = (file: string, text: string): void => {
  try {
    if (fs.readFileSync(file, "utf8") === text) return
  } catch {
    // absent or unreadable: (re)write it
  }
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`
  try {
    fs.writeFileSync(tmp, text, { mode: 0o600 })
    fs.renameSync(tmp, file)
  } finally {
    fs.rmSync(tmp, { force: true })
  }
}

/**
 * The shared folder `<tmp>/rekindle-wasm-mt-<uid>-<digest of the factory>`: created 0700 by the
 * first process and reused by every later one (so a killed process leaves nothing new behind).
 * `undefined` when it exists but is not a plain folder owned by this user and closed to others.
 */
const sharedDir = (factory: string): string | undefined => {
  const uid = process.getuid?.() ?? 0
  const dir = path.join(os.tmpdir(), `rekindle-wasm-mt-${uid}-${digest(factory)}`)
  try {
    fs.mkdirSync(dir, { mode: 0o700 })
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e
  }
  const st = fs.lstatSync(dir)
  const ownedAndClosed = st.isDirectory() && (process.getuid === undefined || st.uid === uid) && (st.mode & 0o022) === 0
  return ownedAndClosed ? dir : undefined
}

/**
 * Installs the shim (idempotent; the second call returns the first shim). Patches `globalThis.Blob`
 * (a subclass that remembers the text of all-string blobs that carry the markers) and
 * `URL.createObjectURL` (marked worker blobs become files; everything else goes to the original).
 *
 * The scripts live in a per-user folder shared by all processes and are written once, atomically:
 * the glue asks for the worker URL once per pool worker, and a worker thread reads its script
 * asynchronously after `new Worker()` returns, so rewriting one file in place (truncate, write) let
 * a worker started a moment earlier read it empty or half-written under load: that worker never
 * reported "loaded" and the init hung until its timeout. Throws if the factory script cannot be
 * found or the files cannot be written.
 */
export const install = (): Shim => {
  const g = globalThis as GlobalWithShim
  const existing = g[installedKey]
  if (existing !== undefined) return existing
  const factory = fs.readFileSync(threadedFactoryScript(), "utf8")
  const shared = sharedDir(factory)
  const dir = shared ?? fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-wasm-mt-"))
  if (shared === undefined) process.once("exit", () => fs.rmSync(dir, { recursive: true, force: true }))
  const mainScript = path.join(dir, "main.cjs")
  writeOnce(mainScript, factory)

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
      const script = prefix + text
      const worker = path.join(dir, `worker-${digest(script)}.cjs`)
      writeOnce(worker, script)
      return worker
    }
    return originalCreate(obj)
  }
  const shim: Shim = { dir, mainScript, shared: shared !== undefined }
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
