/**
 * A run, fully resolved: the decoded pipeline with every plugin part instantiated. The pipeline
 * package compiles a pipeline file into a RunPlan; the Runner executes it.
 */
import type { HookPart, Optimizer, PluginError, Probe, RunLocation, Sink } from "@rekindle/core"
import type { DataConfig } from "@rekindle/data"
import type { Backends } from "@rekindle/engine"
import type { ModelConfig } from "@rekindle/model"
import type { SignalHost, Stage } from "@rekindle/recycling"
import type { Effect, FileSystem, Path, Scope } from "effect"
import type { TrainConfig } from "@rekindle/loop"

/** Backend request: the engine's (a name, threads, the native BLAS, whether threads are pinned). */
export type BackendRequest = Backends.BackendRequest

/** A fully resolved run. */
export interface RunPlan {
  readonly name: string
  readonly seed: number
  readonly backend: BackendRequest
  readonly data: DataConfig.DataConfig
  /** The model config; `vocabSize` absent = take the tokenizer's. */
  readonly model: Omit<ModelConfig, "vocabSize"> & { readonly vocabSize?: number }
  readonly optimizer: { readonly id: string; readonly optimizer: Optimizer.Optimizer }
  readonly train: TrainConfig.TrainConfig
  readonly recycling: ReadonlyArray<Stage.Stage>
  /** Step hooks (a hook that ends the run early has already shortened `train.steps`). */
  readonly hooks: ReadonlyArray<{ readonly id: string; readonly hook: HookPart }>
  readonly probes: ReadonlyArray<{ readonly id: string; readonly probe: Probe }>
  /** Every signal some part requested, bound to its built signal (empty = the host observes nothing). */
  readonly signals?: ReadonlyArray<SignalHost.Bound>
  /** Sinks are acquired inside the run's scope, once its folder exists. */
  readonly sinks: ReadonlyArray<{ readonly id: string; readonly acquire: Effect.Effect<Sink, PluginError, RunLocation | Scope.Scope | FileSystem.FileSystem | Path.Path> }>
  /** The resolved pipeline as plain JSON (written to pipeline.json, hashed for the run name). */
  readonly resolved: unknown
}
