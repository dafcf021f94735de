/**
 * @rekindle/model: a BERT-style / GPT-style transformer with first-class FF neurons, as pure TF.js
 * functions of named parameters: init, loss, evaluation, neuron views, magnitudes, safetensors I/O.
 */
export * as Attention from "./Attention.ts"
export type { BatchTensors } from "./BatchTensors.ts"
export * as CrossEntropy from "./CrossEntropy.ts"
export * as Flops from "./Flops.ts"
export * as Forward from "./Forward.ts"
export * as Gradients from "./Gradients.ts"
export type { Blend, ForwardOptions } from "./Forward.ts"
export * as Init from "./Init.ts"
export * as Layers from "./Layers.ts"
export * as Model from "./Model.ts"
export { ModelConfig } from "./ModelConfig.ts"
export * as Names from "./Names.ts"
export * as Neurons from "./Neurons.ts"
export * as Safetensors from "./Safetensors.ts"
export * as Transformer from "./Transformer.ts"
// the model type by name as well, so declaration emit can name it from the package root
export type { Transformer as TransformerModel } from "./Transformer.ts"
