#!/usr/bin/env node
// The rekindle command. Start-up is kept short (docs/pipelines.md, "Start-up"):
// - `--version` is answered here, from package.json, without loading the CLI;
// - `--help` (alone or after a command) loads the CLI's sources with Node's built-in type
//   stripping, which is enough for them, and skips tsx;
// - everything else registers tsx first (so .ts pipelines and plugins load whatever their syntax),
//   then runs the CLI, whose commands load their heavy modules only when they run.
// Before the CLI loads, it starts recording where `effect` and `@tensorflow/tfjs-core` load from
// (a second copy stops the command, exit 2; see src/Copies.ts).
import { readFileSync } from "node:fs"

const argv = process.argv.slice(2)
if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v")) {
  const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"))
  process.stdout.write(`rekindle v${version}\n`)
} else {
  if (!argv.some((a) => a === "--help" || a === "-h")) {
    const { register } = await import("tsx/esm/api")
    register()
  }
  const { install } = await import("../src/Copies.ts")
  install()
  await import("../src/main.ts")
}
