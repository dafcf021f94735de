/**
 * `rekindle new`: the files of a standalone plugin package (package.json with the rekindle
 * packages and `effect` as peers, Node 22 pinned, vitest, a tsconfig that works outside the repo,
 * one source file, one conformance test, a pipeline using the part), and writing them into a new
 * folder all at once (a temporary sibling renamed into place: nothing half-written).
 */
import { UserError } from "@rekindle/core/Errors"
import * as fs from "node:fs"
import * as path from "node:path"
import { type Kind, kinds, type Names } from "./Kinds.ts"

/** Versions the scaffolded package pins (those of this rekindle). */
export const versions = {
  rekindle: "0.1.0",
  effect: "4.1.5",
  node: "^22.19.0",
  vitest: "5.1.1",
  typescript: "7.0.2",
  typesNode: "^22.19.0",
  tsx: "4.23.15"
} as const

/** What to scaffold. */
export interface Request {
  readonly kind: string
  /** `id` or `namespace/id`. */
  readonly name: string
  /** Target folder (default: `./<id>`). */
  readonly dir?: string
  /**
   * A folder of packed rekindle packages (`npm run pack` writes `dist/packs`): the package depends
   * on each tarball by `file:` path instead of on registry versions.
   */
  readonly packs?: string
}

/** The files of the package, relative path → text. */
export type Files = Readonly<Record<string, string>>

const NAME = /^[a-z][a-z0-9-]*$/

const fail = (message: string): never => {
  throw new UserError({ message })
}

/** The kind with this name, or a UserError listing the known ones. */
export const kindOf = (name: string): Kind =>
  kinds.find((k) => k.name === name) ?? fail(`unknown kind "${name}"; rekindle new makes: ${kinds.map((k) => k.name).join(", ")}`)

/** Namespace and id from `id` or `namespace/id` (namespace `lab` by default). */
export const namesOf = (name: string): Names => {
  const [namespace, id] = name.includes("/") ? name.split("/", 2) as [string, string] : ["lab", name]
  for (const [what, value] of [["namespace", namespace], ["id", id]] as const) {
    if (!NAME.test(value)) fail(`${what} "${value}" must be lowercase letters, digits and dashes, starting with a letter`)
  }
  return { namespace, id, packageName: `rekindle-plugin-${namespace}-${id}` }
}

/** The tarballs of a packs folder by package name (`rekindle-core-0.1.0.tgz` → `@rekindle/core`). */
export const tarballs = (dir: string): Record<string, string> => {
  const abs = path.resolve(dir)
  if (!fs.existsSync(abs)) fail(`--packs ${dir}: no such folder (npm run pack in rekindle writes dist/packs)`)
  const out: Record<string, string> = {}
  for (const f of fs.readdirSync(abs).sort()) {
    const m = /^rekindle-(.+)-\d+\.\d+\.\d+(?:-[\w.]+)?\.tgz$/.exec(f)
    if (m !== null) out[`@rekindle/${m[1]}`] = `file:${path.join(abs, f)}`
  }
  if (Object.keys(out).length === 0) fail(`--packs ${dir}: no rekindle-*.tgz files in it (npm run pack in rekindle writes them)`)
  return out
}

const json = (value: unknown) => JSON.stringify(value, null, 2) + "\n"

/** Every file of the package. */
export const files = (kind: Kind, names: Names, packs?: Record<string, string>): Files => {
  const range = `^${versions.rekindle}`
  const rekindle = packs ?? Object.fromEntries(["@rekindle/builtins", "@rekindle/cli", "@rekindle/core", "@rekindle/pipeline", "@rekindle/testing"].map((p) => [p, range]))
  const ref = `${names.namespace}/${names.id}`
  return {
    "package.json": json({
      name: names.packageName,
      version: "0.1.0",
      private: true,
      description: `rekindle plugin: ${ref}, ${kind.summary}`,
      type: "module",
      engines: { node: ">=22.19" },
      exports: { ".": "./src/index.ts" },
      scripts: {
        test: "vitest run",
        typecheck: "tsc --noEmit",
        rekindle: "rekindle"
      },
      peerDependencies: { "@rekindle/core": range, effect: versions.effect, ...kind.peers },
      devDependencies: {
        ...rekindle,
        ...kind.peers,
        "@types/node": versions.typesNode,
        effect: versions.effect,
        node: versions.node,
        typescript: versions.typescript,
        vitest: versions.vitest
      }
    }),
    "tsconfig.json": json({
      compilerOptions: {
        target: "ES2022",
        lib: ["ES2023"],
        module: "NodeNext",
        moduleResolution: "NodeNext",
        types: ["node"],
        strict: true,
        exactOptionalPropertyTypes: true,
        noUncheckedIndexedAccess: true,
        verbatimModuleSyntax: true,
        allowImportingTsExtensions: true,
        skipLibCheck: true,
        noEmit: true
      },
      include: ["*.ts", "src", "test"]
    }),
    [`src/index.ts`]: kind.source(names),
    [`test/${names.id}.test.ts`]: kind.test(names),
    "pipeline.ts": pipeline(kind, names),
    "rekindle.config.ts": `// Registers the plugin for every rekindle command run in this folder (rekindle plugins, YAML pipelines).
// the built-in plugins' ids and options in scope for definePipeline in this folder
import "@rekindle/builtins"
import { defineConfig } from "@rekindle/pipeline"
import { plugin } from "./src/index.ts"

export default defineConfig({ plugins: [plugin] })
`,
    ".gitignore": "node_modules/\nruns/\n.cache/\n",
    "README.md": readme(kind, names)
  }
}

const pipeline = (kind: Kind, names: Names) => `// A pipeline using ${names.namespace}/${names.id}: a tiny model for 5 steps, to see it work
// (npx rekindle run pipeline.ts). Scale model and train up for an experiment.
import { definePipeline } from "@rekindle/pipeline"
import { plugin } from "./src/index.ts"

export default definePipeline.with([plugin])({
  name: ${JSON.stringify(names.id)},
  seed: 1,
  model: { dModel: 32, heads: 2, layers: 1, dFF: 64, seqLen: 32 },
  data: { tokenizer: { kind: "wordpiece", vocabSize: 2048, lowercase: true } },
  optimizer: { use: "optim/adamw", lr: 1e-3 },
  train: { steps: 5, batchSize: 8, evalEvery: 0, evalBatches: 1, logEvery: 1 },
${kind.pipeline(names)}
})
`

const readme = (kind: Kind, names: Names) => `# ${names.packageName}

\`${names.namespace}/${names.id}\`: ${kind.summary}. Scaffolded by \`rekindle new ${kind.name}\`.

\`\`\`sh
npm install                     # Node 22 comes with it (devDependency "node")
npm test                        # the conformance suite and your behaviour tests
npx rekindle plugins            # the part and its options (rekindle.config.ts registers it)
npx rekindle validate pipeline.ts
npx rekindle run pipeline.ts    # 5 steps of a tiny model; events in runs/<name>-<hash>/events.jsonl
\`\`\`

Files: \`src/index.ts\` (the plugin), \`test/${names.id}.test.ts\` (its tests), \`pipeline.ts\` (a
pipeline using it), \`rekindle.config.ts\` (registers it for commands run here). Always run things
through \`npm run …\` or \`npx …\`: they use the Node 22 this package installs.
`

/** Writes the package into `dir` (which must not exist or be empty); returns the files written. */
export const write = (dir: string, content: Files): ReadonlyArray<string> => {
  const target = path.resolve(dir)
  if (fs.existsSync(target) && (!fs.statSync(target).isDirectory() || fs.readdirSync(target).length > 0)) {
    fail(`${dir}: already exists and is not an empty folder; choose another --dir`)
  }
  fs.mkdirSync(path.dirname(target), { recursive: true })
  const staging = fs.mkdtempSync(path.join(path.dirname(target), `.${path.basename(target)}-`))
  fs.chmodSync(staging, 0o755)
  try {
    for (const [rel, text] of Object.entries(content)) {
      fs.mkdirSync(path.dirname(path.join(staging, rel)), { recursive: true })
      fs.writeFileSync(path.join(staging, rel), text)
    }
    if (fs.existsSync(target)) fs.rmdirSync(target)
    fs.renameSync(staging, target)
  } catch (e) {
    fs.rmSync(staging, { recursive: true, force: true })
    throw e
  }
  return Object.keys(content).sort()
}

/** Scaffolds a package: checks the request, writes every file; returns the folder and files. */
export const scaffold = (request: Request): { readonly dir: string; readonly files: ReadonlyArray<string>; readonly names: Names } => {
  const kind = kindOf(request.kind)
  const names = namesOf(request.name)
  const dir = request.dir ?? names.id
  const packs = request.packs !== undefined ? tarballs(request.packs) : undefined
  return { dir: path.resolve(dir), files: write(dir, files(kind, names, packs)), names }
}
