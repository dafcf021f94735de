/**
 * The signal host as a trainer step hook: it installs the host's observer in every step where a
 * signal is due (no observer otherwise: the step runs its plain path) and saves the windows with
 * each checkpoint under the hook state `signals`.
 */
import type { StepHook } from "@rekindle/core"
import { Effect } from "effect"
import type { Host, HostSnapshot } from "./Host.ts"

/** A step hook driving the host (add it only when the host has requests: its state is then required on resume). */
export const hook = (host: Host): StepHook => ({
  before: () => Effect.succeed(undefined),
  stepOptions: (step) => {
    const observer = host.observer(step)
    return observer === undefined ? undefined : { observers: [observer] }
  },
  state: {
    name: "signals",
    save: () => ({ json: host.snapshot(), tensors: {} }),
    load: (json) => host.restore(json as HostSnapshot)
  }
})
