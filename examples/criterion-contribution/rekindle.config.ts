// Registers the example plugin for every rekindle command run from this folder.
import { lab } from "@rekindle-examples/criterion-contribution"
// the built-in plugins' ids and options in scope for definePipeline in this folder
import "@rekindle/builtins"
import { defineConfig } from "@rekindle/pipeline"

export default defineConfig({ plugins: [lab] })
