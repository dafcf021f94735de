/**
 * A small plugin used by the tests: one criterion, one reinitializer, one optimizer, one probe,
 * one backend, with real (trivial) implementations.
 */
import { BackendError, Plugin } from "@rekindle/core"
import { log } from "@rekindle/plugin-log"
import { optim } from "@rekindle/plugin-optim"
import { Effect, Schema } from "effect"

const Tau = Schema.Struct({
  tau: Schema.Finite.pipe(Schema.check(Schema.isGreaterThan(0)), Schema.withDecodingDefaultKey(Effect.succeed(0.1))),
  every: Schema.Int.pipe(Schema.withDecodingDefaultKey(Effect.succeed(1)))
})

/** Test plugin, namespace `t`. */
export const testPlugin = Plugin.make({
  meta: { name: "@test/plugin", version: "1.0.0", namespace: "t", core: "^0.1.0" },
  criteria: {
    dormant: Plugin.part<"criteria">()({
      description: "Chooses neurons whose score is below tau.",
      options: Tau,
      make: (o) => Effect.succeed({
        needs: { activations: true },
        count: "threshold" as const,
        init: () => o.tau,
        observe: (s: number) => s,
        select: () => ({ layers: [] })
      })
    }),
    smallest: Plugin.part<"criteria">()({
      description: "Chooses the smallest neurons.",
      options: Schema.Struct({}),
      make: () => Effect.succeed({
        needs: { activations: false },
        count: "rank" as const,
        init: () => undefined,
        observe: () => undefined,
        select: () => ({ layers: [] })
      })
    })
  },
  reinitializers: {
    initial: Plugin.part<"reinitializers">()({
      description: "Draws fresh initial values.",
      options: Schema.Struct({}),
      make: () => Effect.succeed({ slicesOnly: true, apply: () => ({}) })
    })
  },
  optimizers: {
    sgd: Plugin.part<"optimizers">()({
      description: "Plain SGD.",
      options: Schema.Struct({
        lr: Schema.Finite.pipe(Schema.check(Schema.isGreaterThan(0)), Schema.withDecodingDefaultKey(Effect.succeed(0.1)))
      }),
      make: (o, ctx) => Effect.succeed({
        name: `sgd(lr=${o.lr}, steps=${ctx.totalSteps})`,
        slots: {},
        init: () => ({ count: 0, slots: {} }),
        update: (g, s) => [g, s] as const,
        learningRate: () => o.lr
      })
    })
  },
  probes: {
    count: Plugin.part<"probes">()({
      description: "Counts.",
      options: Schema.Struct({ every: Schema.Int.pipe(Schema.check(Schema.isGreaterThan(0))) }),
      make: (o) => Effect.succeed({ every: o.every, needs: { activations: false }, run: () => [] })
    })
  },
  backends: {
    fake: Plugin.part<"backends">()({
      description: "A backend that is never available.",
      options: Schema.Struct({}),
      make: () => Effect.succeed({
        name: "fake",
        priority: -1,
        available: Effect.succeed(false),
        init: () => Effect.fail(new BackendError({ backend: "fake", message: "unavailable" }))
      })
    })
  }
})

/** The plugins the unit tests register (fixed, whatever the built-ins grow into). */
export const plugins = [optim, log, testPlugin] as const
