/**
 * Process entry of the `rekindle` command (run under tsx by bin/rekindle.mjs). The process exits
 * with the command's code as soon as it is done: the wasm backend's worker threads would otherwise
 * keep Node alive after a run.
 */
// the modules, not the package index (which loads every platform service: ~3x the start-up time)
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Cause, Effect, Exit } from "effect"
import { run } from "./Cli.ts"

run(process.argv.slice(2)).pipe(
  Effect.provide(NodeServices.layer),
  NodeRuntime.runMain({
    disableErrorReporting: true,
    teardown: (exit, onExit) => {
      // 130 after SIGINT/SIGTERM (the run wrote a checkpoint and can be resumed), as shells expect
      const code = Exit.isSuccess(exit) && typeof exit.value === "number" ? exit.value
        : Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause) ? 130
        : 1
      process.exitCode = code
      onExit(code)
      // let pending stdout/stderr writes drain, then leave even if worker threads are still alive
      setImmediate(() => process.exit(code))
    }
  })
)
