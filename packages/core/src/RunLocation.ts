/**
 * Where the current run's folder (`runs/<name>-<hash>/`) is, as a service that sinks read to know
 * where to write. Only the location lives here, in core, so sink plugins depend on core only; what
 * the folder holds and how it is claimed, written and read is `@rekindle/run` (`RunFolder`).
 */
import { Context, Layer } from "effect"

/** Where the current run writes its files. */
export class RunLocation extends Context.Service<RunLocation, {
  /** Absolute path of the run folder. */
  readonly path: string
}>()("@rekindle/core/RunLocation") {
  /** The run folder at `path`. */
  static readonly layer = (path: string): Layer.Layer<RunLocation> => Layer.succeed(RunLocation, RunLocation.of({ path }))
}
