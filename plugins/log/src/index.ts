/**
 * @rekindle/plugin-log: the built-in sinks `log/console` and `log/jsonl`.
 */
import { Plugin } from "@rekindle/core"
import * as Console from "./Console.ts"
import * as Jsonl from "./Jsonl.ts"

export * as Console from "./Console.ts"
export * as Jsonl from "./Jsonl.ts"

/** The built-in log plugin (namespace `log`). */
export const log = Plugin.make({
  meta: { name: "@rekindle/plugin-log", version: "0.1.0", namespace: "log", core: "^0.1.0" },
  sinks: { console: Console.part, jsonl: Jsonl.part }
})
