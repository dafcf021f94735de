/**
 * The built-in plugins: registered by the CLI and in scope for `definePipeline`'s types.
 */
import { log } from "@rekindle/plugin-log"
import { optim } from "@rekindle/plugin-optim"

/** The built-in plugin values, in registration order. */
export const builtins = [optim, log] as const

/** The built-in plugins (type). */
export type Builtins = typeof builtins
