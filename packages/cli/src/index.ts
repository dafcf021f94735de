/** @rekindle/cli: the rekindle command line (run, validate, plan, schema, plugins, compare). */
export * as Cli from "./Cli.ts"
export * as Overrides from "./Overrides.ts"
export * as Host from "./Host.ts"
export * as Summary from "./Summary.ts"
export * as Run from "./commands/Run.ts"
export * as Plugins from "./commands/Plugins.ts"
