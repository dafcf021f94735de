/**
 * The model package's main entry points in one namespace: build a transformer, move batches to
 * the device, count FLOPs.
 */
export { type BatchTensors, disposeBatch, toTensors } from "./BatchTensors.ts"
export { flops } from "./Flops.ts"
export type { Blend, ForwardOptions } from "./Forward.ts"
export { make, type Transformer } from "./Transformer.ts"
