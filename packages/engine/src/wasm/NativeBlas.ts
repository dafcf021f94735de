/**
 * A native CBLAS library (OpenBLAS, Accelerate, any library exporting `cblas_sgemm`) loaded with
 * `koffi` (an optional dependency: prebuilt FFI binaries, no compiler). The wasm backend's matrix
 * products call its `cblas_sgemm` directly on Float32Array views of the wasm heap: no copies.
 *
 * Selection (`blas` option): `"auto"` loads the first library found among the usual names and
 * paths ({@link candidates}) and runs XNNPACK when none loads; `"openblas"` insists on OpenBLAS
 * (an error naming the package to install when it is missing); `"none"` keeps XNNPACK; anything
 * else is a library name or path to `dlopen`. What was chosen, and why, is a {@link BlasInfo}.
 */
import { createRequire } from "node:module"
import { type BlasInfo, Bug, UserError } from "@rekindle/core"

/** The `blas` option of the wasm backend: `auto`, `openblas`, `none`, or a library name/path. */
export type BlasChoice = string

/** Where the fast path comes from, for error messages and the docs. */
export const installHint =
  "install OpenBLAS: Debian/Ubuntu `apt-get install libopenblas0-openmp` (or libopenblas0-pthread), " +
  "Fedora `dnf install openblas-openmp` (or FlexiBLAS, `dnf install flexiblas`), macOS: Accelerate is found by " +
  "`blas: \"auto\"` (or `brew install openblas`); and the npm package koffi (an optional dependency)"

/** `C = alpha·op(A)·op(B) + beta·C`, row-major, on float32 views (offsets are element indices). */
export type Sgemm = (
  transA: boolean, transB: boolean, M: number, N: number, K: number,
  a: Float32Array, lda: number, b: Float32Array, ldb: number, beta: number, c: Float32Array, ldc: number
) => void

/** A loaded library. */
export interface Blas {
  readonly info: BlasInfo
  readonly sgemm: Sgemm
  /**
   * Runs `f` with the library on one thread, then restores its thread count (OpenBLAS:
   * `openblas_set_num_threads`); absent where the library's threads cannot be set (then callers
   * just run `f`). The thread count changes the bits of sgemm's results (a different split of
   * the output tiles), so callers use it by a fixed rule, never by timing.
   */
  readonly serial?: <A>(f: () => A) => A
}

/** The result of a selection: the library (or none) and how it was chosen. */
export interface Selection {
  readonly blas: Blas | undefined
  readonly info: BlasInfo
}

/**
 * Library names and paths `auto` and `openblas` try, in order, on this platform. The environment
 * variable `REKINDLE_BLAS_CANDIDATES` (a `:`-separated list) replaces the list (tests use it to
 * simulate a machine without OpenBLAS).
 */
export const candidates = (platform: NodeJS.Platform = process.platform): ReadonlyArray<string> => {
  const env = process.env["REKINDLE_BLAS_CANDIDATES"]
  if (env !== undefined) return env.split(":").filter((p) => p !== "")
  return defaultCandidates(platform)
}

/** Apple's Accelerate framework (its CBLAS exports `cblas_sgemm` with the standard enums). */
export const accelerate = "/System/Library/Frameworks/Accelerate.framework/Accelerate"

const defaultCandidates = (platform: NodeJS.Platform): ReadonlyArray<string> =>
  platform === "darwin"
    ? [
      // Accelerate first: on Apple silicon its sgemm runs on the matrix units, far ahead of OpenBLAS
      accelerate,
      "/opt/homebrew/opt/openblas/lib/libopenblas.dylib", // Homebrew, Apple silicon
      "/usr/local/opt/openblas/lib/libopenblas.dylib", // Homebrew, Intel
      "/opt/local/lib/libopenblas.dylib", // MacPorts
      "libopenblas.dylib"
    ]
    : platform === "win32"
    ? ["libopenblas.dll", "openblas.dll"]
    : [
      // OpenMP builds first: with OMP_WAIT_POLICY=passive (see waitPolicy) they keep their speed on
      // a loaded machine, where the pthreads build's spinning server fell to XNNPACK's rate
      "/usr/lib/x86_64-linux-gnu/openblas-openmp/libopenblas.so.0", // Debian/Ubuntu libopenblas0-openmp
      "/usr/lib/aarch64-linux-gnu/openblas-openmp/libopenblas.so.0",
      "libopenblaso.so.0", // Fedora/RHEL openblas-openmp (/usr/lib64/libopenblaso.so.0)
      "/usr/lib64/libopenblaso.so.0",
      "libopenblas.so.0", // Debian's alternatives link (pthreads or OpenMP), Fedora's serial build
      "libopenblasp.so.0", // Fedora/RHEL openblas-threads
      "/usr/lib64/libopenblasp.so.0",
      "libopenblas.so",
      "/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
      "/usr/lib64/libopenblas.so.0",
      "/usr/lib/aarch64-linux-gnu/libopenblas.so.0",
      // FlexiBLAS (Fedora's default BLAS since 33, package flexiblas): a CBLAS front end over the
      // backend its configuration names (OpenBLAS-OpenMP by default); last, as its backend is not
      // ours to pick. The ILP64 builds (…64_.so) are never tried: their ints are 64-bit.
      "libflexiblas.so.3",
      "/usr/lib64/libflexiblas.so.3",
      "/usr/lib/x86_64-linux-gnu/libflexiblas.so.3"
    ]

interface KoffiLib {
  func(signature: string): (...args: Array<unknown>) => unknown
  unload?(): void
}
interface Koffi {
  load(path: string): KoffiLib
}

const require = createRequire(import.meta.url)

/** The koffi module, or why it cannot be loaded. */
const loadKoffi = (): Koffi | string => {
  try {
    return require("koffi") as Koffi
  } catch (e) {
    return `the npm package koffi cannot be loaded (${e instanceof Error ? e.message.split("\n")[0] : String(e)})`
  }
}

const optional = <F>(lib: KoffiLib, signature: string): F | undefined => {
  try {
    return lib.func(signature) as F
  } catch {
    return undefined
  }
}

const rowMajor = 101
const noTrans = 111
const trans = 112

/** Opens `path` and binds its CBLAS entry points; throws when it has no `cblas_sgemm`. */
const open = (koffi: Koffi, path: string, threads: number | undefined, reason: string, requested: string): Blas => {
  const lib = koffi.load(path)
  const raw = lib.func(
    "void cblas_sgemm(int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int)"
  )
  const getConfig = optional<() => string>(lib, "const char* openblas_get_config()")
  const getCore = optional<() => string>(lib, "const char* openblas_get_corename()")
  // FlexiBLAS has its own thread and version entry points (and forwards to its backend)
  const flexiVersion = getConfig === undefined
    ? optional<(a: Array<number>, b: Array<number>, c: Array<number>) => void>(lib, "void flexiblas_get_version(_Out_ int *major, _Out_ int *minor, _Out_ int *patch)")
    : undefined
  const getThreads = optional<() => number>(lib, "int openblas_get_num_threads()") ??
    (flexiVersion === undefined ? undefined : optional<() => number>(lib, "int flexiblas_get_num_threads()"))
  const setThreads = optional<(n: number) => void>(lib, "void openblas_set_num_threads(int)") ??
    (flexiVersion === undefined ? undefined : optional<(n: number) => void>(lib, "void flexiblas_set_num_threads(int)"))
  if (threads !== undefined && setThreads !== undefined) setThreads(threads)
  const config = getConfig?.() ?? ""
  if (config.includes("USE_OPENMP")) exitGuard()
  const openblas = getConfig !== undefined
  const flexi = flexiVersion === undefined ? undefined : (() => {
    const v = [[0], [0], [0]] as [Array<number>, Array<number>, Array<number>]
    flexiVersion(...v)
    return v.map((x) => x[0]).join(".")
  })()
  const version = openblas ? (/OpenBLAS (\S+)/.exec(config)?.[1] ?? config) : flexi ?? "unknown"
  const info: BlasInfo = {
    requested,
    library: openblas ? "openblas" : flexi !== undefined ? "flexiblas" : path.includes("Accelerate") ? "accelerate" : "cblas",
    path,
    version,
    ...(getCore === undefined ? {} : { coreType: getCore() }),
    ...(getThreads === undefined ? {} : { threads: getThreads() }),
    reason
  }
  const sgemm: Sgemm = (transA, transB, M, N, K, a, lda, b, ldb, beta, c, ldc) => {
    raw(rowMajor, transA ? trans : noTrans, transB ? trans : noTrans, M, N, K, 1, a, lda, b, ldb, beta, c, ldc)
  }
  const configured = info.threads
  if (setThreads === undefined || configured === undefined || configured <= 1) return { info, sgemm }
  const serial = <A>(f: () => A): A => {
    setThreads(1)
    try {
      return f()
    } finally {
      setThreads(configured)
    }
  }
  return { info, sgemm, serial }
}

/**
 * An OpenMP build of OpenBLAS loaded into Node segfaults at exit when the process ends by draining
 * its event loop (libgomp's threads race Node's teardown; measured: 6 of 8 exits with Debian's
 * libopenblas0-openmp 0.3.21), not when it calls `process.exit`. So once one is loaded, a natural
 * exit becomes `process.exit()` (with the exit code already set) at `beforeExit`.
 */
const exitGuard = (): void => {
  const key = Symbol.for("rekindle/engine/openmp-exit-guard")
  const g = globalThis as typeof globalThis & { [key]?: true }
  if (g[key]) return
  g[key] = true
  process.once("beforeExit", () => process.exit())
}

/**
 * OpenMP's threads busy-wait between parallel regions by default; on a machine whose cores are
 * shared with other processes that turns every sgemm into a wait for a descheduled spinner
 * (measured under load 17 on 2 cores: the reference step 3.7× slower than XNNPACK with the
 * default policy, 3.7× faster than XNNPACK with `passive`). So unless the environment sets
 * `OMP_WAIT_POLICY`, it is set to `passive` before the library is loaded (libgomp reads it when it
 * is loaded). Child processes inherit it (the bench's PyTorch peer runs under the same policy).
 */
const waitPolicy = (): void => {
  if (process.env["OMP_WAIT_POLICY"] === undefined) process.env["OMP_WAIT_POLICY"] = "passive"
}

const describe = (e: unknown): string => (e instanceof Error ? e.message.split("\n")[0]! : String(e))

/**
 * Selects the library for `choice` (see the module doc). `threads` sets OpenBLAS's thread count
 * (`openblas_set_num_threads`; other libraries keep their own setting). Throws an `Error` whose
 * message says what to install when `openblas` or a path was asked for and cannot be loaded.
 */
export const select = (choice: BlasChoice, threads?: number): Selection => {
  if (choice === "none") {
    return { blas: undefined, info: { requested: choice, library: "none", reason: "blas: \"none\" asked for: matrix products on XNNPACK (wasm)" } }
  }
  const koffi = loadKoffi()
  const fixed = choice !== "auto" && choice !== "openblas"
  if (typeof koffi === "string") {
    if (choice === "auto") {
      return { blas: undefined, info: { requested: choice, library: "none", reason: `no native BLAS: ${koffi}; matrix products on XNNPACK (wasm)` } }
    }
    throw new UserError({ message: `blas: "${choice}" needs ${koffi}; ${installHint}` })
  }
  waitPolicy()
  const tried: Array<string> = []
  for (const path of fixed ? [choice] : candidates()) {
    try {
      const reason = choice === "auto" ? `blas: "auto" found ${path}` : `blas: "${choice}" loaded ${path}`
      const blas = open(koffi, path, threads, reason, choice)
      if (choice === "openblas" && blas.info.library !== "openblas") {
        tried.push(`${path}: not OpenBLAS`)
        continue
      }
      return { blas, info: blas.info }
    } catch (e) {
      tried.push(`${path}: ${describe(e)}`)
    }
  }
  if (choice === "auto") {
    return {
      blas: undefined,
      info: { requested: choice, library: "none", reason: `no native BLAS found (tried ${tried.length} names/paths); matrix products on XNNPACK (wasm)` }
    }
  }
  throw new UserError({
    message: fixed
      ? `blas: cannot load "${choice}" as a CBLAS library (${tried.join("; ")})`
      : `blas: "openblas" asked for but no OpenBLAS library could be loaded; ${installHint}`
  })
}

const activeKey = Symbol.for("rekindle/engine/native-blas")
type GlobalWithBlas = typeof globalThis & { [activeKey]?: Selection & { readonly key: string } }

/**
 * Selects (see {@link select}) and makes the result the one the wasm kernels use from now on
 * (one per process; a later call with other settings replaces it). Same settings: the same selection.
 */
export const activate = (choice: BlasChoice, threads?: number): Selection => {
  const g = globalThis as GlobalWithBlas
  const key = `${choice}\u0000${threads ?? ""}`
  const live = g[activeKey]
  if (live !== undefined && live.key === key) return live
  const s = select(choice, threads)
  g[activeKey] = { ...s, key }
  return s
}

/** The library the wasm kernels call now (`undefined`: XNNPACK). */
export const active = (): Blas | undefined => (globalThis as GlobalWithBlas)[activeKey]?.blas

/** The active library for a kernel that runs only on it; a Bug naming `kernel` when none is active. */
export const required = (kernel: string): Blas => active() ?? (() => {
  throw new Bug(`${kernel}: needs the native BLAS`)
})()

/** Switches the native path off (benchmarks and tests compare both). */
export const deactivate = (): void => {
  activate("none")
}

/**
 * What differs between a recorded selection and a new one in what decides the bits (library,
 * version, core type, threads), as `field: recorded -> now` lines; empty when they agree.
 */
export const differences = (recorded: BlasInfo, now: BlasInfo): Array<string> =>
  (["library", "version", "coreType", "threads"] as const)
    .filter((k) => recorded[k] !== now[k])
    .map((k) => `${k}: ${String(recorded[k] ?? "(none)")} -> ${String(now[k] ?? "(none)")}`)
