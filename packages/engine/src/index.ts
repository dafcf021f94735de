/**
 * @rekindle/engine: the TF.js bridge. Backends (wasm default with threads and kernel overrides,
 * cpu, plugin-provided node/node-gpu), the `Engine` service, and tensor lifetime helpers.
 */
export * as Backends from "./Backends.ts"
export * as CpuBackend from "./CpuBackend.ts"
export * as HostValues from "./HostValues.ts"
export { Engine } from "./Engine.ts"
export * as Tensors from "./Tensors.ts"
export { expectNoTensorLeak, tidy } from "./Tensors.ts"
export * as ThreadedWasmLoader from "./ThreadedWasmLoader.ts"
export * as WasmBackend from "./WasmBackend.ts"
export * as NativeBlas from "./wasm/NativeBlas.ts"
export * as QkvAttention from "./wasm/QkvAttention.ts"
export * as WasmOverrides from "./wasm/WasmOverrides.ts"
