/**
 * The run folder claimed for one run, as a service: the pipeline's hash, and the decision
 * `Resume.claim` took for the folder (with where it is) (fresh, replace, resume), with the folder's lock held for as
 * long as the layer's scope lives. It is the first layer of a run: what to do with an existing
 * folder is decided, under its lock, before the backend, the data or the model load.
 */
import type { UserError } from "@rekindle/core"
import { Context, Effect, type FileSystem, Layer, Path } from "effect"
import * as Resume from "./Resume.ts"
import { folderName, hashOf } from "./RunFolder.ts"

/** What {@link ClaimedFolder.layer} needs to know about the run. */
export interface ClaimInput {
  /** The pipeline's name (the folder is `<outDir>/<name>-<hash>`). */
  readonly name: string
  readonly seed: number
  /** The resolved pipeline (hashed for the folder name and to match checkpoints). */
  readonly resolved: unknown
  /** The pipeline's `train.checkpointEvery` (for saying why a run has no checkpoint). */
  readonly checkpointEvery: number
  /** Root folder of runs. */
  readonly outDir: string
  /** The exact folder, instead of `<outDir>/<name>-<hash>`. */
  readonly dir?: string
  /** What to do with a folder that already holds a run (default `refuse`). */
  readonly existing?: Resume.Existing
}

/** The claimed run folder (its lock held while the layer lives). */
export class ClaimedFolder extends Context.Service<ClaimedFolder, {
  /** Hash of the resolved pipeline. */
  readonly pipelineHash: string
  /** What happens to the folder (its absolute path is `claim.dir`): a fresh run, a replaced one, or a resume from a checkpoint. */
  readonly claim: Resume.Claim
}>()("@rekindle/run/ClaimedFolder") {
  /** Claims the run's folder under its lock (see `Resume.claim` for the rules). */
  static readonly layer = (input: ClaimInput): Layer.Layer<ClaimedFolder, UserError, FileSystem.FileSystem | Path.Path> =>
    Layer.effect(
      ClaimedFolder,
      Effect.gen(function*() {
        const path = yield* Path.Path
        const pipelineHash = hashOf(input.resolved)
        const dir = input.dir !== undefined ? path.resolve(input.dir) : path.resolve(input.outDir, folderName(input.name, pipelineHash))
        const claim = yield* Resume.claim(dir, {
          seed: input.seed,
          pipelineHash,
          checkpointEvery: input.checkpointEvery,
          eventFiles: Resume.eventFiles(input.resolved)
        }, input.existing ?? "refuse")
        return ClaimedFolder.of({ pipelineHash, claim })
      })
    )
}
