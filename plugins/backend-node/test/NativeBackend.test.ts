/**
 * The native providers where `@tensorflow/tfjs-node(-gpu)` is not installed (as here): they report
 * unavailable without throwing, `auto` passes them over, and naming them is a clean UserError.
 */
import { Backends } from "@rekindle/engine"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { backendNode, NativeBackend, nodeGpuProvider, nodeProvider, providers } from "../src/index.ts"

describe("plugin-backend-node", () => {
  it("is a backend plugin with node and node-gpu parts whose make yields the providers", async () => {
    expect(backendNode.meta.namespace).toBe("backend")
    expect(Object.keys(backendNode.backends)).toEqual(["node", "node-gpu"])
    const made = await Effect.runPromise(backendNode.backends["node-gpu"].make({}, { totalSteps: 1 }))
    expect(made).toBe(nodeGpuProvider)
    expect([nodeGpuProvider.priority, nodeProvider.priority]).toEqual([30, 20])
  })

  it("reports unavailable when the package cannot be imported", async () => {
    expect(await Effect.runPromise(nodeProvider.available)).toBe(false)
    expect(await Effect.runPromise(nodeGpuProvider.available)).toBe(false)
    const failing = NativeBackend.make(NativeBackend.node, () => Promise.reject(new Error("libtensorflow.so: cannot open")))
    expect(await Effect.runPromise(failing.available)).toBe(false)
    const e = await Effect.runPromise(Effect.flip(failing.init({ threads: 1 })))
    expect(String(e)).toContain("libtensorflow.so: cannot open")
    expect(String(e)).toContain("npm install @tensorflow/tfjs-node@4.22.0")
  })

  it("reports unavailable when the package loads but registers no tensorflow backend", async () => {
    const hollow = NativeBackend.make(NativeBackend.node, () => Promise.resolve({}))
    expect(await Effect.runPromise(hollow.available)).toBe(false)
  })

  it("auto passes over the unavailable native providers; naming one is a UserError", async () => {
    const info = await Effect.runPromise(Backends.init({ name: "auto" }, providers))
    expect(info.name).toBe("wasm")
    const e = await Effect.runPromise(Effect.flip(Backends.init({ name: "node-gpu" }, providers)))
    expect(e._tag).toBe("UserError")
    expect(e.message).toContain("not available")
  })
})
