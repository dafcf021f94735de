/**
 * Type-level tests (checked by `tsc -b packages/pipeline`, not run): part ids and options are
 * completed and checked against the plugins in scope.
 */
// the built-in plugins in scope for definePipeline (declaration merging into core's InScope)
import "@rekindle/builtins"
import { definePipeline, override, study, withOptimizer, withStage } from "../src/index.ts"
import { testPlugin } from "./fixtures-plugin.ts"

const define = definePipeline.with([testPlugin])

export const ok = define({
  name: "types",
  backend: { name: "fake", threads: 2 },
  optimizer: { use: "t/sgd", lr: 0.5 },
  recycling: [{
    schedule: { every: 10 },
    select: { use: "t/dormant", fraction: 0.1, tau: 0.2 },
    reinit: { use: "t/initial" },
    shadow: [{ use: "t/smallest" }]
  }],
  probes: [{ use: "t/count", every: 5 }],
  log: [{ use: "log/console", every: 2 }, { use: "log/jsonl" }]
})

define({
  name: "typo",
  recycling: [{
    schedule: { every: 10 },
    // @ts-expect-error: "tua" is not an option of t/dormant
    select: { use: "t/dormant", fraction: 0.1, tua: 0.2 }
  }]
})

define({
  name: "wrong type",
  // @ts-expect-error: lr is a number
  optimizer: { use: "t/sgd", lr: "fast" }
})

define({
  name: "unknown id",
  // @ts-expect-error: no such optimizer
  optimizer: { use: "t/adamw" }
})

define({
  name: "unknown backend",
  // @ts-expect-error: no such backend
  backend: "tpu"
})

// @ts-expect-error: unknown top-level key
define({ name: "x", modle: {} })

// the built-ins alone do not know the test plugin's parts
// @ts-expect-error: t/sgd is not in scope
definePipeline({ name: "x", optimizer: { use: "t/sgd" } })
// @ts-expect-error: adamw has no option "weightdecay"
definePipeline({ name: "x", optimizer: { use: "optim/adamw", weightdecay: 0.1 } })
export const builtin = definePipeline({ name: "x", optimizer: { use: "optim/adamw", lr: 1e-3, weightDecay: 0.01, schedule: { kind: "warmup-cosine", warmupSteps: 10 } } })
// @ts-expect-error: t/count is not in scope
definePipeline({ name: "x", log: [{ use: "t/count" }] })

export const o1 = override(ok, "recycling.0.select.fraction", 0.2)
export const o2 = override(ok, "train.steps", 10)
// @ts-expect-error: wrong value type at a valid path
override(ok, "train.steps", "ten")
// @ts-expect-error: no such path
override(ok, "train.stepz", 10)

export const o3 = withOptimizer(ok, { use: "t/sgd", lr: 0.01 })
// @ts-expect-error: not an optimizer of the plugins in scope
withOptimizer(ok, { use: "t/nope" })
export const o4 = withStage(ok, { schedule: { every: 5 }, select: { use: "t/smallest", fraction: 0.5 } })

export const s = study({ base: ok, grid: { "recycling.0.select.fraction": [0.01, 0.1], "optimizer.lr": [0.1, 0.01] }, seeds: [1, 2] })
// @ts-expect-error: grid values must have the path's type
study({ base: ok, grid: { "train.steps": ["many"] } })

// plugins listed in the pipeline itself are in scope for its parts
export const listed = definePipeline({ name: "listed", plugins: [testPlugin], optimizer: { use: "t/sgd", lr: 1 } })
// @ts-expect-error: "lrr" is not an option of t/sgd
definePipeline({ name: "listed", plugins: [testPlugin], optimizer: { use: "t/sgd", lrr: 1 } })
