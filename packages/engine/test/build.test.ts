/**
 * The committed kernel binaries: a rebuild from `assembly/kernels.ts` with the pinned
 * AssemblyScript reproduces them byte for byte, and they own no memory contents or state.
 * Across processes: the kernels give the same bits on 1 thread (plain memory) and 2 threads
 * (shared memory).
 */
import { execFileSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { checkNoState, compile, outputs } from "../scripts/KernelBuild.ts"

describe("kernels.wasm build", () => {
  it.each(["plain", "shared"] as const)("a rebuild reproduces the committed %s binary", async (variant) => {
    const rebuilt = await compile(variant)
    const committed = new Uint8Array(readFileSync(outputs[variant]))
    expect(rebuilt.length).toBe(committed.length)
    expect(Buffer.from(rebuilt).equals(Buffer.from(committed))).toBe(true)
  }, 60_000)

  it("the committed binaries have no data, global or start sections; the check catches one", () => {
    for (const path of Object.values(outputs)) checkNoState(new Uint8Array(readFileSync(path)), path)
    // a module with one (empty) data section: magic, version, section 11 of size 1 holding count 0
    const withData = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 11, 1, 0])
    expect(() => checkNoState(withData, "test")).toThrow(/has a data section/)
  })
})

describe("fused kernels across thread counts", () => {
  const fixture = fileURLToPath(new URL("./fixtures/fusedBits.ts", import.meta.url))
  const bits = (threads: number) => {
    const out = execFileSync("npx", ["tsx", fixture, String(threads)], { encoding: "utf8", cwd: fileURLToPath(new URL("..", import.meta.url)) })
    return JSON.parse(out.trim().split("\n").pop()!) as { threads: number; shared: boolean; sha256: string }
  }

  it("give the same bits on 1 thread (plain memory) and 2 threads (shared memory)", () => {
    const one = bits(1)
    const two = bits(2)
    expect(one.shared).toBe(false)
    expect(two.threads === 2 ? two.shared : true).toBe(true)
    expect(two.sha256).toBe(one.sha256)
  }, 120_000)
})
