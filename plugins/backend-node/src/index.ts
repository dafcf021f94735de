/**
 * @rekindle/plugin-backend-node: backends `node` and `node-gpu` (namespace `backend`). Install
 * `@tensorflow/tfjs-node` or `@tensorflow/tfjs-node-gpu` 4.22.0 to make them available; without
 * them the providers report unavailable and `backend: auto` keeps choosing wasm.
 */
import { Plugin } from "@rekindle/core"
import { Effect, Schema } from "effect"
import * as NativeBackend from "./NativeBackend.ts"

export * as NativeBackend from "./NativeBackend.ts"

/** The `node` provider (`@tensorflow/tfjs-node`). */
export const nodeProvider = NativeBackend.make(NativeBackend.node)
/** The `node-gpu` provider (`@tensorflow/tfjs-node-gpu`). */
export const nodeGpuProvider = NativeBackend.make(NativeBackend.nodeGpu)

const part = (description: string, provider: typeof nodeProvider) =>
  Plugin.part<"backends">()({ description, options: Schema.Struct({}), make: () => Effect.succeed(provider) })

/** The plugin value. */
export const backendNode = Plugin.make({
  meta: { name: "@rekindle/plugin-backend-node", version: "0.1.0", namespace: "backend", core: "^0.1.0" },
  backends: {
    node: part("Native CPU libtensorflow through @tensorflow/tfjs-node (when installed)", nodeProvider),
    "node-gpu": part("CUDA libtensorflow through @tensorflow/tfjs-node-gpu (when installed)", nodeGpuProvider)
  }
})

/** The providers, for `Backends.init(request, providers)`. */
export const providers = [nodeGpuProvider, nodeProvider] as const
