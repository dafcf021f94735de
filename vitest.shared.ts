/**
 * The vitest settings of every package without its own: timeouts that only catch hangs. Tests
 * load TF.js, the compiler or a backend inside their first case, which on a loaded 2-core machine
 * can pass vitest's 5 s default; speed targets live in `npm run bench`, never in test timeouts.
 */
import { defineConfig } from "vitest/config"

export default defineConfig({ test: { testTimeout: 120_000, hookTimeout: 60_000 } })
