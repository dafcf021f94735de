/**
 * The heavy modules the commands use (the pipeline compiler with every built-in plugin, the report
 * writer, the run-folder helpers), loaded when a command first needs them rather than when the
 * CLI starts: `rekindle --help` and `--version` then load only effect's CLI (see README,
 * start-up). Type-only imports stay static; they cost nothing at run time.
 */
import { Effect } from "effect"

/** A module loaded once, on first use. */
export const lazy = <A>(load: () => Promise<A>): Effect.Effect<A> => {
  let loading: Promise<A> | undefined
  return Effect.promise(() => (loading ??= load()))
}

/** `@rekindle/core` (loads TF.js). */
export const core = lazy(() => import("@rekindle/core"))
/** `@rekindle/pipeline` (schemas, compiler, the built-in plugins). */
export const pipeline = lazy(() => import("@rekindle/pipeline"))
/** `@rekindle/builtins` (the built-in plugins' registry entries). */
export const builtins = lazy(() => import("@rekindle/builtins"))
/** `@rekindle/report` (report data and HTML, pretrained magnitudes). */
export const report = lazy(() => import("@rekindle/report"))
/** `@rekindle/run/RunFolder` (folder names and hashes, manifests). */
export const runFolder = lazy(() => import("@rekindle/run/RunFolder"))
