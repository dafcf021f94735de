/**
 * Builds the fused wasm kernels (`assembly/kernels.ts`, AssemblyScript) into the two binaries the
 * engine loads: `kernels.wasm` imports a plain memory (tfjs's single-threaded builds) and
 * `kernels-shared.wasm` a shared one (the threaded build). Used by `npm run build:kernels` (writes
 * the files) and by the test that checks a rebuild reproduces the committed bytes.
 *
 * Each binary is checked to own no memory contents: no data segments, no globals, no start
 * function (anything it wrote on its own would land on tfjs's heap).
 */
import asc from "assemblyscript/asc"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

/** The AssemblyScript source. */
export const sourcePath = fileURLToPath(new URL("../assembly/kernels.ts", import.meta.url))

/** Where the built binaries live (committed). */
export const outputs = {
  plain: fileURLToPath(new URL("../src/wasm/kernels/kernels.wasm", import.meta.url)),
  shared: fileURLToPath(new URL("../src/wasm/kernels/kernels-shared.wasm", import.meta.url))
} as const

/**
 * asc flags shared by both variants: release build, no runtime, no abort, SIMD, imported memory.
 * Relaxed SIMD stays off (asc's default: a relaxed op in the source is a compile error), so the
 * kernels give the same bits on every machine.
 */
const common = [
  "-O3", "--noAssert", "--runtime", "stub", "--use", "abort=", "--importMemory", "--noExportMemory",
  "--initialMemory", "0", "--enable", "simd", "--disable", "bulk-memory"
]

const variantFlags = {
  plain: [],
  shared: ["--enable", "threads", "--sharedMemory", "--maximumMemory", "65536"]
} as const

/** Section ids a kernel binary must not have: global (6), start (8), data (11), data count (12). */
const forbiddenSections = new Map([[6, "global"], [8, "start"], [11, "data"], [12, "data count"]])

const readLeb = (bytes: Uint8Array, at: number): [number, number] => {
  let value = 0
  let shift = 0
  let i = at
  for (;;) {
    const b = bytes[i++]!
    value += (b & 0x7f) * 2 ** shift
    shift += 7
    if ((b & 0x80) === 0) return [value, i]
  }
}

/** Throws when `bytes` has a section that would give the module memory contents or state of its own. */
export const checkNoState = (bytes: Uint8Array, what: string): void => {
  let i = 8
  while (i < bytes.length) {
    const id = bytes[i]!
    const [size, next] = readLeb(bytes, i + 1)
    const name = forbiddenSections.get(id)
    if (name !== undefined) throw new Error(`${what}: has a ${name} section (the kernels must own no memory or state)`)
    i = next + size
  }
}

/** Compiles one variant in memory and returns its bytes. */
export const compile = async (variant: keyof typeof variantFlags): Promise<Uint8Array> => {
  let binary: Uint8Array | undefined
  const errors: Array<string> = []
  const result = await asc.main([sourcePath, ...common, ...variantFlags[variant], "--outFile", "kernels.wasm"], {
    readFile: (name, baseDir) => {
      try {
        return readFileSync(name.startsWith("/") ? name : `${baseDir}/${name}`, "utf8")
      } catch {
        return null
      }
    },
    writeFile: (_name, contents) => {
      binary = typeof contents === "string" ? new TextEncoder().encode(contents) : contents
    },
    listFiles: () => [],
    stderr: { write: (s: string | Uint8Array) => void errors.push(String(s)) } as never
  })
  if (result.error !== null || binary === undefined) {
    throw new Error(`asc failed for ${variant}: ${result.error?.message ?? "no output"}\n${errors.join("")}`)
  }
  checkNoState(binary, `kernels (${variant})`)
  return binary
}
