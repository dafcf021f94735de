/**
 * The built-in plugins: registered by the CLI and in scope for `definePipeline`'s types (through
 * core's `InScope`, by declaration merging).
 */
import { backendNode } from "@rekindle/plugin-backend-node"
import { log } from "@rekindle/plugin-log"
import { optim } from "@rekindle/plugin-optim"
import { probe } from "@rekindle/plugin-probe"
import { reinit } from "@rekindle/plugin-reinit"
import { select } from "@rekindle/plugin-select"

/** The built-in plugin values, in registration order. */
export const builtins = [optim, select, reinit, probe, log, backendNode] as const

/** The built-in plugins (type). */
export type Builtins = typeof builtins

declare module "@rekindle/core" {
  /** The built-in plugins are in scope for `definePipeline` wherever this package is imported. */
  interface InScope {
    readonly builtins: Builtins
  }
}
