/**
 * @rekindle/plugin-log: the built-in sinks `log/console`, `log/jsonl`, `log/tensorboard` (TensorBoard
 * event files) and `log/report` (a self-contained report.html per run).
 */
import { Plugin } from "@rekindle/core"
import * as Console from "./Console.ts"
import * as Jsonl from "./Jsonl.ts"
import * as Report from "./Report.ts"
import * as Tensorboard from "./Tensorboard.ts"

export * as Console from "./Console.ts"
export * as Jsonl from "./Jsonl.ts"
export * as Report from "./Report.ts"
export * as Tensorboard from "./Tensorboard.ts"

/** The built-in log plugin (namespace `log`). */
export const log = Plugin.make({
  meta: { name: "@rekindle/plugin-log", version: "0.1.0", namespace: "log", core: "^0.1.0" },
  sinks: { console: Console.part, jsonl: Jsonl.part, tensorboard: Tensorboard.part, report: Report.part }
})
