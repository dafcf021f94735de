/**
 * Signals at compile (and so `validate`) time: requests declared by criteria and probes are bound
 * to the registry's signal parts, and an unknown, misconfigured or incompatible one is reported at
 * the requesting part's field path plus `signals.<name>`.
 */
import { type Criterion, type HookPart, Plugin, type Probe, type Signal } from "@rekindle/core"
import { Effect, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { builtins } from "@rekindle/builtins"
import * as Compile from "../src/Compile.ts"
import * as Registry from "../src/Registry.ts"
import { lines, userErrorOf, valueOf } from "./helpers.ts"

const asking = (signals: Signal.SignalRequests): Criterion<void> => ({
  needs: { activations: false },
  signals,
  count: "rank",
  init: () => undefined,
  observe: (s) => s,
  select: () => ({ layers: [] })
})

const criterion = (signals: Signal.SignalRequests) =>
  Plugin.part<"criteria">()({ description: "asks for signals", options: Schema.Struct({}), make: () => Effect.succeed(asking(signals)) })

const lab = Plugin.make({
  meta: { name: "lab", version: "0.0.0", namespace: "lab", core: "^0.1.0" },
  criteria: {
    unknown: criterion({ x: { use: "signal/taylr" } }),
    moment: criterion({ v: { use: "signal/second-moment" } }),
    window: criterion({ w: { use: "signal/taylor", window: { kind: "ema", decay: 2 } } }),
    options: criterion({ o: { use: "signal/second-moment", options: { slot: "" } } }),
    oddly: criterion({ s: { use: "lab/odd" } })
  },
  signals: {
    // a plugin's signal asking for a step view that does not exist (a typo in plain JavaScript)
    odd: Plugin.part<"signals">()({
      description: "declares needs.step \"grads\"",
      options: Schema.Struct({}),
      make: () => Effect.succeed({ needs: { step: "grads" }, compute: () => undefined } as unknown as Signal.Signal)
    })
  },
  hooks: {
    reader: Plugin.part<"hooks">()({
      description: "reads grad-norm",
      options: Schema.Struct({}),
      make: () =>
        Effect.succeed<HookPart>({
          signals: { g: { use: "signal/grad-norm", window: { kind: "ema", decay: 0.5 }, every: 2 } },
          build: () => Effect.succeed({ before: () => Effect.succeed(undefined) }),
          describe: () => ({ summary: "reads grad-norm" })
        })
    }),
    typo: Plugin.part<"hooks">()({
      description: "asks for an unknown signal",
      options: Schema.Struct({}),
      make: () =>
        Effect.succeed<HookPart>({
          signals: { x: { use: "signal/grad-nrom" } },
          build: () => Effect.succeed({ before: () => Effect.succeed(undefined) }),
          describe: () => ({ summary: "typo" })
        })
    })
  },
  probes: {
    taylor: Plugin.part<"probes">()({
      description: "reads taylor",
      options: Schema.Struct({}),
      make: () => Effect.succeed<Probe>({ every: 10, needs: { activations: false }, signals: { t: { use: "signal/taylor", window: { kind: "mean" } } }, run: () => [] })
    })
  }
})

const registry = valueOf(Registry.make([...builtins, lab]))

const pipeline = (select: unknown, extra: Record<string, unknown> = {}) => ({
  name: "signals",
  optimizer: { use: "optim/adam" },
  train: { steps: 20 },
  recycling: [{ schedule: { every: 5 }, select, reinit: { use: "reinit/initial" }, shadow: [{ use: "select/snip", window: "ema" }] }],
  ...extra
})

describe("signals at compile time", () => {
  it("binds select/taylor, a select/snip shadow and a probe's request, one consumer each", () => {
    const plan = valueOf(Compile.compile(registry, pipeline({ use: "select/taylor", fraction: 0.1 }, { probes: [{ use: "lab/taylor" }] })))
    expect(plan.signals!.map((b) => [b.consumer, b.name, b.id, b.key, b.window, b.every])).toEqual([
      ["recycling.0.select", "taylor", "signal/taylor", "signal/taylor {}", { kind: "mean" }, 1],
      ["recycling.0.shadow.0", "saliency", "signal/snip", "signal/snip {}", { kind: "ema", decay: 0.9 }, 1],
      ["probes.0", "t", "signal/taylor", "signal/taylor {}", { kind: "mean" }, 1]
    ])
    // nothing asked: no signals in the plan (the host observes nothing)
    const plain = pipeline({ use: "select/magnitude-smallest", fraction: 0.1 })
    const noShadow = { ...plain, recycling: [{ ...plain.recycling[0]!, shadow: [] }] }
    expect(valueOf(Compile.compile(registry, noShadow)).signals).toBeUndefined()
  })

  it("binds a hook's requests (consumer hooks.<i>) and reports its unknown ones at hooks.<i>.signals", () => {
    const plan = valueOf(Compile.compile(registry, pipeline({ use: "select/magnitude-smallest", fraction: 0.1 }, { hooks: [{ use: "lab/reader" }] })))
    expect(plan.signals!.find((b) => b.consumer === "hooks.0")).toMatchObject({ name: "g", id: "signal/grad-norm", window: { kind: "ema", decay: 0.5 }, every: 2 })
    expect(lines(userErrorOf(Compile.compile(registry, pipeline({ use: "select/magnitude-smallest", fraction: 0.1 }, { hooks: [{ use: "lab/typo" }] }))))).toEqual([
      `hooks.0.signals.x.use: unknown signal "signal/grad-nrom"; did you mean "signal/grad-norm"?`
    ])
  })

  it("reports an unknown signal, a bad window and bad options at their field paths", () => {
    expect(lines(userErrorOf(Compile.compile(registry, pipeline({ use: "lab/unknown", fraction: 0.1 }))))).toEqual([
      `recycling.0.select.signals.x.use: unknown signal "signal/taylr"; did you mean "signal/taylor"?`
    ])
    expect(lines(userErrorOf(Compile.compile(registry, pipeline({ use: "lab/window", fraction: 0.1 }))))).toEqual([
      "recycling.0.select.signals.w.window: an ema window needs a decay in [0, 1), got 2"
    ])
    expect(lines(userErrorOf(Compile.compile(registry, pipeline({ use: "lab/options", fraction: 0.1 }))))[0]).toMatch(
      /^recycling\.0\.select\.signals\.o\.options\.slot: /
    )
  })

  it("reports a signal whose needs.step is none of true, false, \"hidden\", \"gradients\"", () => {
    expect(lines(userErrorOf(Compile.compile(registry, pipeline({ use: "lab/oddly", fraction: 0.1 }))))).toEqual([
      `recycling.0.select.signals.s: lab/odd: needs.step must be true, false, "hidden" or "gradients", got "grads"`
    ])
  })

  it("reports a signal the run cannot provide: the optimizer's second moment under SGD", () => {
    expect(valueOf(Compile.compile(registry, pipeline({ use: "lab/moment", fraction: 0.1 }))).signals).toHaveLength(2)
    const sgd = pipeline({ use: "lab/moment", fraction: 0.1 }, { optimizer: { use: "optim/sgd", momentum: 0.9 } })
    expect(lines(userErrorOf(Compile.compile(registry, sgd)))).toEqual([
      `recycling.0.select.signals.v: signal/second-moment reads the optimizer slot "adam.nu", but the optimizer keeps only "momentum.trace"`
    ])
  })
})
