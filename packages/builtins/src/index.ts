/**
 * @rekindle/builtins: the one place that imports every built-in plugin. It assembles the built-in
 * registry (`builtins`, registered by the CLI) and puts the plugins' types in scope for
 * `definePipeline` (core's `InScope`), so that `pipeline` and everything below it import no plugin.
 */
export { builtins } from "./Builtins.ts"
export type { Builtins } from "./Builtins.ts"
