/**
 * What a run trains, as a service: the dataset's batch streams (training, evaluation, the fixed
 * probe batch), the model and the training loop with its parameters and optimizer state. Its
 * layer loads the data (split by document, tokenizer trained or read from the cache) and builds
 * the model once the backend is up (`Engine`) and the folder is claimed (a resumed run's stream
 * continues from the checkpoint's position). Tensors are disposed when the layer's scope closes.
 */
import { isUserError, Key, UserError } from "@rekindle/core"
import { type BatchStream, Datasets } from "@rekindle/data"
import { Engine } from "@rekindle/engine"
import { type BatchTensors, Model, Transformer } from "@rekindle/model"
import { ClaimedFolder } from "@rekindle/run"
import { Context, Effect, type FileSystem, Layer, type Path } from "effect"
import type { RunPlan } from "./RunPlan.ts"
import { TrainLoop } from "@rekindle/loop"

/** Runs synchronous setup code whose `UserError`s (thrown by data batching) become failures; any other throw is a bug (a defect). */
export const attempt = <A>(f: () => A): Effect.Effect<A, UserError> =>
  Effect.suspend(() => {
    try {
      return Effect.succeed(f())
    } catch (e) {
      return isUserError(e) ? Effect.fail(e) : Effect.die(e)
    }
  })

/** The run's data, model and training loop. */
export class Workload extends Context.Service<Workload, {
  /** The run's root key (`Key.make(seed)`). */
  readonly root: Key.Key
  readonly model: Transformer.Transformer
  readonly loop: TrainLoop.TrainLoop
  /** Training batches (from the checkpoint's position on resume). */
  readonly stream: BatchStream
  /** The fixed evaluation batches. */
  readonly evalSet: ReadonlyArray<BatchTensors>
  /** One fixed held-out batch for criteria and probes that measure activations. */
  readonly probe: BatchTensors
}>()("@rekindle/training/Workload") {
  /** Loads the plan's data and builds its model and loop (`cacheDir`: tokenizers and tokenized corpora). */
  static readonly layer = (
    plan: Pick<RunPlan, "seed" | "data" | "model" | "optimizer" | "train">,
    options: { readonly cacheDir: string }
  ): Layer.Layer<Workload, UserError, Engine | ClaimedFolder | FileSystem.FileSystem | Path.Path> =>
    Layer.effect(
      Workload,
      Effect.gen(function*() {
        yield* Engine
        const { claim } = yield* ClaimedFolder
        const from = claim._tag === "Resume" ? claim.checkpoint.state.stream : undefined
        const root = Key.make(plan.seed)
        const dataset = yield* Datasets.load(plan.data, { cacheDir: options.cacheDir, key: Key.split(root, "split") })
        const vocabSize = dataset.tokenizer.vocabSize
        if (plan.model.vocabSize !== undefined && plan.model.vocabSize !== vocabSize) {
          return yield* new UserError({
            message: `model.vocabSize: the pipeline says ${plan.model.vocabSize} but the tokenizer has ${vocabSize} entries; ` +
              `omit model.vocabSize to use the tokenizer's`
          })
        }
        const model = Transformer.make({ ...plan.model, vocabSize })
        const batchOptions = {
          batchSize: plan.train.batchSize,
          seqLen: plan.model.seqLen,
          objective: plan.data.objective,
          masking: plan.data.masking
        }
        const stream = yield* attempt(() =>
          Datasets.trainStream(dataset, { ...batchOptions, key: Key.split(root, "data"), ...(from !== undefined ? { from } : {}) })
        )
        const evalSet = yield* Effect.acquireRelease(
          attempt(() =>
            Datasets.evalBatches(dataset, { ...batchOptions, key: Key.split(root, "eval"), count: plan.train.evalBatches })
              .map(Model.toTensors)
          ),
          (bs) => Effect.sync(() => bs.forEach(Model.disposeBatch))
        )
        const probe = yield* Effect.acquireRelease(
          attempt(() =>
            Model.toTensors(Datasets.evalBatches(dataset, { ...batchOptions, key: Key.split(root, "probe"), count: 1 })[0]!)
          ),
          (b) => Effect.sync(() => Model.disposeBatch(b))
        )
        const loop = yield* Effect.acquireRelease(
          Effect.sync(() => TrainLoop.make(model, plan.optimizer.optimizer, model.init(Key.split(root, "init")))),
          (l) => Effect.sync(() => l.dispose())
        )
        return Workload.of({ root, model, loop, stream, evalSet, probe })
      })
    )
}
