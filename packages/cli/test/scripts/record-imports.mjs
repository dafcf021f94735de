// Loaded with `node --import` by Bin.test.ts: records every module URL the process resolves into
// the file named by REKINDLE_IMPORTS (one a line), so a test can see what start-up loads.
import { register } from "node:module"

register("./record-imports-hooks.mjs", import.meta.url, { data: { file: process.env.REKINDLE_IMPORTS } })
