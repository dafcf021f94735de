#!/usr/bin/env node
// The rekindle command: registers tsx (so sources and .ts pipelines load directly), then runs the CLI.
import { register } from "tsx/esm/api"

register()
await import("../src/main.ts")
