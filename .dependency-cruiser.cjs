/**
 * The dependency rules of docs/architecture.md, checked by `npm run lint:deps` (the first step of
 * `npm test`). A whitelist: an import is allowed only when one of the `allowed` arrows below
 * matches it, so a new wrong arrow fails without anyone writing a rule for it.
 *
 * - core imports nothing of ours;
 * - plugins import only the leaf libraries: core, engine, model, report;
 * - nothing below the built-in registry (packages/builtins) imports a plugin in its sources;
 * - no cycles;
 * - no package imports another's internals: only its src/index.ts and the deliberate subpaths
 *   listed in its package.json `exports`.
 */

/** Which packages each package's sources may import (besides itself, core and npm packages). */
const layers = {
  core: [],
  engine: [],
  model: ["engine"],
  data: [],
  report: ["engine", "model"],
  testing: ["engine", "model", "run", "loop"],
  run: ["engine", "model", "data"],
  loop: ["engine", "model", "data", "run"],
  recycling: ["engine", "model"],
  training: ["engine", "model", "data", "run", "loop", "recycling"],
  pipeline: ["engine", "model", "data", "run", "loop", "recycling", "training"],
  builtins: ["PLUGINS"],
  cluster: [],
  replication: ["report"],
  cli: ["engine", "model", "data", "report", "run", "loop", "recycling", "training", "pipeline", "builtins", "cluster", "replication"]
}

/** The leaf libraries plugins may import. */
const leaves = ["engine", "model", "report"]

/** Public entry points: a package's index, and the deliberate subpaths of its `exports`. */
const entry = (dir) => `^${dir}/src/index\\.ts$`
// core/Errors and report/Archs: light modules the CLI's start-up needs without a package index (docs/architecture.md)
const subpaths = [
  "^packages/engine/src/Gradients\\.ts$",
  "^packages/run/src/RunFolder\\.ts$",
  "^packages/core/src/Errors\\.ts$",
  "^packages/core/src/Files\\.ts$",
  "^packages/report/src/Archs\\.ts$"
]
const publicOf = (dirs) => [...dirs.map(entry), ...subpaths.filter((s) => dirs.some((d) => s.startsWith(`^${d}/`)))]

const plugins = "plugins/[^/]+"
const pkg = (name) => (name === "PLUGINS" ? plugins : `packages/${name}`)

/** npm packages and node's own modules, from anywhere. */
const external = [
  { from: {}, to: { path: "node_modules" } },
  { from: {}, to: { dependencyTypes: ["core"] } }
]

/** Within one package (or bench/, pipelines/, test/, one example): anything. */
const within = [
  { from: { path: "^(packages|plugins|examples)/([^/]+)/" }, to: { path: "^$1/$2/" } },
  { from: { path: "^(bench|pipelines|test)/" }, to: { path: "^$1/" } }
]

/** Every package's sources: core, and the layers below it. */
const sources = Object.entries(layers).map(([name, below]) => ({
  from: { path: `^packages/${name}/src/` },
  to: { path: publicOf(["packages/core", ...below.map(pkg)]) }
}))

/** Plugins' sources: core and the leaf libraries. */
const pluginSources = {
  from: { path: `^${plugins}/src/` },
  to: { path: publicOf(["packages/core", ...leaves.map(pkg)]) }
}

/**
 * Tests, benches and scripts of a package (and of a plugin: the leaf libraries, the kit and other
 * plugins as fixtures, such as a hook's criterion): what its sources may import, plus the plugin kit, the
 * report library, the plugins as fixtures, and the built-in registry (never a package above it).
 */
const testsOf = Object.entries(layers).map(([name, below]) => ({
  from: { path: `^packages/${name}/(?!src/)` },
  to: { path: publicOf(["packages/core", "packages/testing", "packages/report", "packages/builtins", plugins, ...below.map(pkg)]) }
}))
const pluginTests = {
  from: { path: `^${plugins}/(?!src/)` },
  to: { path: publicOf(["packages/core", "packages/testing", plugins, ...leaves.map(pkg)]) }
}

/** The tools on top (bench, presets, end-to-end tests, examples): any package's public surface. */
const top = {
  from: { path: "^(bench|pipelines|test|examples)/" },
  to: { path: [entry("packages/[^/]+"), entry(plugins), ...subpaths] }
}

/** A package's vitest config may take the shared settings at the root. */
const sharedVitest = { from: { path: "^(packages|plugins)/[^/]+/vitest\\.config\\.ts$" }, to: { path: "^vitest\\.shared\\.ts$" } }

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "No cycles, within a package or across packages.",
      from: {},
      to: { circular: true }
    }
  ],
  allowed: [...external, ...within, ...sources, pluginSources, ...testsOf, pluginTests, top, sharedVitest],
  allowedSeverity: "error",
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)(build|node_modules)/" },
    parser: "swc",
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.base.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      extensions: [".ts", ".mts", ".js", ".mjs", ".cjs", ".json"]
    },
    reporterOptions: { text: { highlightFocused: true } }
  }
}
