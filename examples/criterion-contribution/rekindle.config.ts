// Registers the example plugin for every rekindle command run from this folder.
import { lab } from "@rekindle-examples/criterion-contribution"
import { defineConfig } from "@rekindle/pipeline"

export default defineConfig({ plugins: [lab] })
