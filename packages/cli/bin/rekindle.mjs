#!/usr/bin/env node
// The rekindle command: registers tsx (so sources and .ts pipelines load directly), starts recording
// where `effect` and `@tensorflow/tfjs-core` load from (a second copy stops the command, exit 2),
// then runs the CLI.
import { register } from "tsx/esm/api"

register()
const { install } = await import("../src/Copies.ts")
install()
await import("../src/main.ts")
