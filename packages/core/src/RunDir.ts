/**
 * The run's output folder (`runs/<name>-<hash>/`), as a service sinks and checkpoints use.
 */
import { Context } from "effect"

/** Where the current run writes its files. */
export class RunDir extends Context.Service<RunDir, {
  /** Absolute path of the run folder. */
  readonly path: string
}>()("@rekindle/core/RunDir") {}
