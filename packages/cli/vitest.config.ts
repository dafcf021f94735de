import { defineConfig } from "vitest/config"

// commands load the compiler, the report writer and TF.js when they first run, inside the first
// test that runs them: on a busy machine that alone can pass vitest's 5 s default
export default defineConfig({ test: { testTimeout: 60_000 } })
