/**
 * The native-BLAS path of the wasm backend (OpenBLAS through koffi, sgemm on the wasm heap):
 * selection and what it records, products of every layout against the cpu backend and against
 * XNNPACK (float32 tolerance), bitwise repeatability, the fused matMul, no leaks, and the errors.
 * Needs OpenBLAS (`.ci/run` installs it); without it only the "auto falls back" and error tests run.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as tf from "@tensorflow/tfjs-core"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Backends from "../src/Backends.ts"
import * as WasmBackend from "../src/WasmBackend.ts"
import * as NativeBlas from "../src/wasm/NativeBlas.ts"
import { internals } from "../src/wasm/WasmHeap.ts"
import "../src/Gradients.ts"
import { dataIds, expectClose, run, seeded, use } from "./compare.ts"

const t = (shape: Array<number>, seed: number) => tf.tensor(seeded(seed, shape.reduce((a, b) => a * b, 1)), shape)

/** Whether OpenBLAS loads on this machine (with the real candidate list). */
const haveOpenBlas = (() => {
  try {
    return NativeBlas.select("openblas").blas !== undefined
  } catch {
    return false
  }
})()

/** Runs `f` with a given candidate list (simulating a machine without OpenBLAS). */
const withCandidates = <A>(list: string, f: () => A): A => {
  const before = process.env["REKINDLE_BLAS_CANDIDATES"]
  process.env["REKINDLE_BLAS_CANDIDATES"] = list
  try {
    return f()
  } finally {
    if (before === undefined) delete process.env["REKINDLE_BLAS_CANDIDATES"]
    else process.env["REKINDLE_BLAS_CANDIDATES"] = before
  }
}

afterAll(() => NativeBlas.deactivate())

describe("NativeBlas selection", () => {
  it("none: no library, and says so", () => {
    const s = NativeBlas.select("none")
    expect(s.blas).toBeUndefined()
    expect(s.info).toMatchObject({ requested: "none", library: "none" })
    expect(s.info.reason).toMatch(/XNNPACK/)
  })

  it("auto without a library: XNNPACK, and the record says why", () => {
    const s = withCandidates("/nonexistent/libopenblas.so.0", () => NativeBlas.select("auto"))
    expect(s.blas).toBeUndefined()
    expect(s.info.library).toBe("none")
    expect(s.info.reason).toMatch(/no native BLAS found.*XNNPACK/)
  })

  it("openblas without the library: an error naming what to install", () => {
    expect(() => withCandidates("/nonexistent/libopenblas.so.0", () => NativeBlas.select("openblas"))).toThrow(
      /no OpenBLAS library could be loaded.*apt-get install libopenblas0-openmp/
    )
  })

  it("the search lists: Accelerate first on macOS; Debian's and Fedora's OpenMP builds before the rest on Linux, FlexiBLAS last, no ILP64 builds", () => {
    const before = process.env["REKINDLE_BLAS_CANDIDATES"]
    delete process.env["REKINDLE_BLAS_CANDIDATES"]
    try {
      expect(NativeBlas.candidates("darwin")[0]).toBe("/System/Library/Frameworks/Accelerate.framework/Accelerate")
      expect(NativeBlas.candidates("darwin")).toContain("/opt/homebrew/opt/openblas/lib/libopenblas.dylib")
      const linux = NativeBlas.candidates("linux")
      const at = (name: string) => linux.indexOf(name)
      expect(at("/usr/lib/x86_64-linux-gnu/openblas-openmp/libopenblas.so.0")).toBe(0)
      expect(at("libopenblaso.so.0")).toBeLessThan(at("libopenblas.so.0"))
      expect(at("libopenblas.so.0")).toBeLessThan(at("libopenblasp.so.0"))
      expect(linux.slice(-3).every((p) => p.includes("libflexiblas.so.3"))).toBe(true)
      expect(linux.filter((p) => /64_/.test(p))).toEqual([])
    } finally {
      if (before !== undefined) process.env["REKINDLE_BLAS_CANDIDATES"] = before
    }
  })

  it("a path that is not a CBLAS library: an error naming it", () => {
    expect(() => NativeBlas.select("/nonexistent/libmyblas.so")).toThrow(/cannot load "\/nonexistent\/libmyblas.so"/)
  })

  it("the wasm provider turns that error into a UserError at backend.blas", async () => {
    const e = await withCandidates("/nonexistent/x.so", () =>
      Effect.runPromise(Effect.flip(Backends.init({ name: "wasm", blas: "openblas" }))))
    expect(e.problems?.[0]?.path).toBe("backend.blas")
    expect(e.message).toMatch(/backend.blas: .*install OpenBLAS/)
    // auto picks wasm but does not fall back to cpu over a setting the user got wrong
    const a = await withCandidates("/nonexistent/x.so", () =>
      Effect.runPromise(Effect.flip(Backends.init({ name: "auto", blas: "openblas" }))))
    expect(a.problems?.[0]?.path).toBe("backend.blas")
  })

  it.runIf(haveOpenBlas)("openblas: one-thread sections restore the thread count, and each thread count repeats its own bits", () => {
    const s = NativeBlas.select("openblas", 2)
    expect(s.blas?.serial).toBeDefined()
    const [M, N, K] = [128, 128, 64]
    const a = Float32Array.from(seeded(31, M * K)), b = Float32Array.from(seeded(32, K * N))
    const product = () => {
      const c = new Float32Array(M * N)
      s.blas!.sgemm(false, true, M, N, K, a, K, b, K, 0, c, N)
      return c
    }
    const two = product()
    const one = s.blas!.serial!(product)
    expect(product()).toEqual(two) // back on 2 threads: the 2-thread bits again
    expect(s.blas!.serial!(product)).toEqual(one)
    // the same values to float32 rounding either way
    one.forEach((v, i) => expect(Math.abs(v - two[i]!)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(v))))
  })

  it.runIf(haveOpenBlas)("openblas: records library, version, core type and threads", () => {
    const s = NativeBlas.select("openblas", 1)
    expect(s.info.library).toBe("openblas")
    expect(s.info.version).toMatch(/^\d+\.\d+/)
    expect(typeof s.info.coreType).toBe("string")
    expect(s.info.threads).toBe(1)
    const two = NativeBlas.select("openblas", 2)
    expect(two.info.threads).toBe(2)
  })
})

const openmpBuild = "/usr/lib/x86_64-linux-gnu/openblas-openmp/libopenblas.so.0"

describe.runIf(fs.existsSync(openmpBuild))("an OpenMP build in a process that ends by itself", () => {
  it("exits with 0, not SIGSEGV (the exit guard), 4 times out of 4", () => {
    const engine = path.join(path.dirname(fileURLToPath(import.meta.url)), "..")
    const script = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-omp-")), "natural-exit.ts")
    fs.writeFileSync(script, [
      `import * as NativeBlas from ${JSON.stringify(path.join(engine, "src/wasm/NativeBlas.ts"))}`,
      `const s = NativeBlas.select(${JSON.stringify(openmpBuild)}, 2)`,
      `const n = 256, a = new Float32Array(n * n).fill(1), c = new Float32Array(n * n)`,
      `for (let i = 0; i < 20; i++) s.blas!.sgemm(false, false, n, n, n, a, n, a, n, 0, c, n)`,
      `process.exitCode = c[0] === n ? 0 : 3`
    ].join("\n"))
    const tsx = path.join(engine, "..", "..", "node_modules", "tsx", "dist", "cli.mjs")
    const codes = [1, 2, 3, 4].map(() => {
      const r = spawnSync(process.execPath, [tsx, script], { encoding: "utf8" })
      return r.signal ?? r.status
    })
    expect(codes).toEqual([0, 0, 0, 0])
  }, 120_000)
})

describe.runIf(haveOpenBlas)("BatchMatMul on OpenBLAS", () => {
  beforeAll(async () => {
    const info = await Effect.runPromise(Backends.init({ name: "wasm", blas: "openblas" }))
    expect(info.blas?.library).toBe("openblas")
  })

  const cases: Array<[string, Array<number>, Array<number>, boolean, boolean]> = [
    ["2d NN", [7, 5], [5, 3], false, false],
    ["2d TN", [5, 7], [5, 3], true, false],
    ["2d NT", [7, 5], [3, 5], false, true],
    ["2d TT", [5, 7], [3, 5], true, true],
    ["3d x 2d NN (fold)", [6, 7, 5], [5, 4], false, false],
    ["3d x 2d TN", [6, 5, 7], [5, 4], true, false],
    ["3d x 2d NT (fold)", [6, 7, 5], [4, 5], false, true],
    ["3d x 3d NT (QKᵀ)", [6, 7, 5], [6, 4, 5], false, true],
    ["3d x 3d TN", [6, 5, 7], [6, 5, 4], true, false],
    ["4d x 4d NT (heads)", [2, 3, 7, 5], [2, 3, 4, 5], false, true],
    ["2d x 3d broadcast a", [7, 5], [6, 5, 4], false, false],
    ["[6,M,K] x [1,K,N]", [6, 7, 5], [1, 5, 4], false, false],
    ["rank 4 x rank 3 broadcast", [2, 3, 7, 5], [3, 5, 4], false, false],
    ["training size", [4, 128, 64], [64, 96], false, false]
  ]

  /** The same product on cpu, on XNNPACK (blas none) and on OpenBLAS. */
  const threeWays = async (f: () => tf.Tensor | ReadonlyArray<tf.Tensor>, label: string) => {
    await use("cpu")
    const cpu = run(f)
    await use("wasm", "none")
    const xnn = run(f)
    await use("wasm", "openblas")
    expect(NativeBlas.active()).toBeDefined()
    const tensors = tf.memory().numTensors
    const data = dataIds()
    const blas = run(f)
    expect(tf.memory().numTensors, `${label}: tensors leaked`).toBe(tensors)
    expect(dataIds(), `${label}: wasm data leaked`).toBe(data)
    expectClose(`${label} vs cpu`, blas, cpu)
    expectClose(`${label} vs XNNPACK`, blas, xnn)
    return blas
  }

  it.each(cases)("%s matches cpu and XNNPACK", async (label, sa, sb, ta, tb) => {
    await threeWays(() => tf.matMul(t(sa, 1), t(sb, 2), ta, tb), label)
  })

  it("gradients through tf.grads match (2-D and attention-shaped)", async () => {
    await threeWays(() => {
      const loss = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.matMul(x, y)))
      const attention = (q: tf.Tensor, k: tf.Tensor) => tf.sum(tf.square(tf.matMul(q, k, false, true)))
      return [...tf.grads(loss)([t([24, 6], 8), t([6, 5], 9)]), ...tf.grads(attention)([t([3, 7, 4], 10), t([3, 9, 4], 11)])]
    }, "grads")
  })

  it("fused matMul with bias and each activation matches", async () => {
    for (const activation of ["linear", "relu", "relu6", "elu", "sigmoid", "leakyrelu"] as const) {
      await threeWays(
        () => tf.fused.matMul({ a: t([9, 6], 3), b: t([4, 6], 4), transposeB: true, bias: t([4], 5), activation }),
        `fused ${activation}`
      )
    }
    await threeWays(
      () => tf.fused.matMul({ a: t([5, 9], 3), b: t([5, 4], 4), transposeA: true, activation: "prelu", preluActivationWeights: t([4], 6) }),
      "fused prelu"
    )
  })

  it("same settings, same bits: a product repeated is bitwise equal", async () => {
    await use("wasm", "openblas")
    const f = () => tf.matMul(t([256, 192], 1), t([320, 192], 2), false, true)
    const [x] = run(f)
    const [y] = run(f)
    expect(Buffer.from(new Float32Array(y!.values).buffer).equals(Buffer.from(new Float32Array(x!.values).buffer))).toBe(true)
  })

  it("works on the shared heap of the threaded build", async () => {
    await use("wasm", "openblas")
    if (WasmBackend.status()?.threaded === true) {
      expect(internals(tf.backend()).wasm.HEAPF32.buffer).toBeInstanceOf(SharedArrayBuffer)
    }
    const [r] = run(() => tf.matMul(tf.ones([3, 4]), tf.ones([4, 2])))
    expect(r!.values).toEqual([4, 4, 4, 4, 4, 4])
  })
})
