/**
 * A run, fully resolved: the decoded pipeline with every plugin part instantiated. The pipeline
 * package compiles a pipeline file into a RunPlan; the Runner executes it.
 */
import type { Optimizer, Probe, RunDir, Sink } from "@rekindle/core"
import type { DataConfig } from "@rekindle/data"
import type { ModelConfig } from "@rekindle/model"
import type { Stage } from "@rekindle/recycling"
import type { Effect, FileSystem, Path, Scope } from "effect"
import type { MidpointLossConfig } from "./experiments/MidpointLoss.ts"
import type { Pruning } from "./experiments/Pruning.ts"
import type { Retrain } from "./experiments/Retrain.ts"
import type { TrainConfig } from "./TrainConfig.ts"

/** Backend request: a name (`auto`, `wasm`, `cpu`, or one a plugin provides) and a thread count. */
export interface BackendRequest {
  readonly name: string
  /** Threads for wasm; absent = all available cores. */
  readonly threads?: number
}

/** A fully resolved run. */
export interface RunPlan {
  readonly name: string
  readonly seed: number
  readonly backend: BackendRequest
  readonly data: DataConfig.DataConfig
  /** The model config; `vocabSize` absent = take the tokenizer's. */
  readonly model: Omit<ModelConfig, "vocabSize"> & { readonly vocabSize?: number }
  readonly optimizer: { readonly id: string; readonly optimizer: Optimizer.Optimizer }
  readonly train: TrainConfig
  readonly recycling: ReadonlyArray<Stage.Stage>
  /** Gradual pruning (absent = none). */
  readonly pruning?: Pruning
  /** Retraining a subset of FF neurons (absent = none); with `then: "stop"`, `train.steps` is already `at + steps`. */
  readonly retrain?: Retrain
  /** The midpoint loss, applied decoupled (absent = none). */
  readonly midpointLoss?: MidpointLossConfig
  readonly probes: ReadonlyArray<{ readonly id: string; readonly probe: Probe }>
  /** Sinks are acquired inside the run's scope, once its folder exists. */
  readonly sinks: ReadonlyArray<{ readonly id: string; readonly acquire: Effect.Effect<Sink, unknown, RunDir | Scope.Scope | FileSystem.FileSystem | Path.Path> }>
  /** The resolved pipeline as plain JSON (written to pipeline.json, hashed for the run name). */
  readonly resolved: unknown
}
