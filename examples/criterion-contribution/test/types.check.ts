// What the editor and tsc say about lab/contribution refs (type-checked by `npx tsc -b`, never run).
import { lab } from "@rekindle-examples/criterion-contribution"
import { definePipeline } from "@rekindle/pipeline"

// in scope: `use` completes to "lab/contribution" and its options are checked
definePipeline.with([lab])({
  name: "typed",
  recycling: [{
    schedule: { every: 100 },
    select: { use: "lab/contribution", fraction: 0.1, normalize: true },
    shadow: [{ use: "select/magnitude-smallest" }]
  }]
})

definePipeline.with([lab])({
  name: "typos",
  recycling: [{
    schedule: { every: 100 },
    // @ts-expect-error: "normalise" is not an option of lab/contribution
    select: { use: "lab/contribution", fraction: 0.1, normalise: true }
  }, {
    schedule: { every: 100 },
    // @ts-expect-error: normalize is a boolean
    select: { use: "lab/contribution", fraction: 0.1, normalize: "yes" }
  }]
})

// out of scope: without the plugin, "lab/contribution" is not a known criterion
definePipeline({
  name: "unregistered",
  recycling: [{
    schedule: { every: 100 },
    // @ts-expect-error: unknown criterion id
    select: { use: "lab/contribution", fraction: 0.1 }
  }]
})
