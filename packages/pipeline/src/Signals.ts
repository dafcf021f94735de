/**
 * Binding the signals parts ask for: every request a built criterion or probe declares
 * (`signals: { name: { use, options?, window?, every? } }`) is looked up among the registry's
 * `signals` parts, its options decoded by the part's schema, the signal built and checked against
 * the run (optimizer slots, FF layers, probe batch). Every problem names its field path, the
 * requesting part's path plus `signals.<name>` (`recycling.0.select.signals.taylor.use`), so
 * `validate` reports an unknown or incompatible signal where it was asked for.
 */
import type { Plugin, Problem, Signal, Topology } from "@rekindle/core"
import type { SignalHost } from "@rekindle/recycling"
import { Effect, Result } from "effect"
import { decode, subPath } from "./Problems.ts"
import type { Registry } from "./Registry.ts"

/** What a request is checked against. */
export interface BindContext extends Signal.SignalContext {
  readonly build: Plugin.BuildContext
}

const windowProblem = (w: unknown): string | undefined => {
  if (typeof w !== "object" || w === null) return "expected { kind: \"last\" | \"mean\" | \"ema\", decay? }"
  const kind = (w as { kind?: unknown }).kind
  if (kind === "last" || kind === "mean") return undefined
  if (kind === "ema") {
    const d = (w as { decay?: unknown }).decay
    return typeof d === "number" && d >= 0 && d < 1 ? undefined : `an ema window needs a decay in [0, 1), got ${String(d)}`
  }
  return `unknown window kind ${JSON.stringify(kind)}; expected "last", "mean" or "ema"`
}

/** Canonical JSON (sorted keys), so equal options give equal sharing keys. */
const canonical = (u: unknown): string =>
  u === null || typeof u !== "object"
    ? JSON.stringify(u)
    : Array.isArray(u)
    ? `[${u.map(canonical).join(",")}]`
    : `{${Object.keys(u).sort().map((k) => `${JSON.stringify(k)}:${canonical((u as Record<string, unknown>)[k])}`).join(",")}}`

/**
 * Binds the requests of one part (at `path`, read as consumer `consumer`). Problems are appended
 * to `problems`; the bound requests of the part are returned (only those without problems).
 */
export const bind = (
  registry: Registry,
  requests: Signal.SignalRequests | undefined,
  consumer: string,
  path: string,
  context: BindContext,
  problems: Array<Problem>
): Effect.Effect<Array<SignalHost.Bound>> =>
  Effect.gen(function*() {
    const out: Array<SignalHost.Bound> = []
    for (const [name, request] of Object.entries(requests ?? {})) {
      const at = subPath(path, `signals.${name}`)
      const found = registry.lookup("signals", request.use)
      if (typeof found === "string") {
        problems.push({ path: subPath(at, "use"), message: found })
        continue
      }
      const every = request.every ?? 1
      if (!Number.isInteger(every) || every < 1) {
        problems.push({ path: subPath(at, "every"), message: `expected a positive integer, got ${String(request.every)}` })
        continue
      }
      const window = request.window ?? { kind: "last" as const }
      const wrong = windowProblem(window)
      if (wrong !== undefined) {
        problems.push({ path: subPath(at, "window"), message: wrong })
        continue
      }
      const decoded = decode(found.part.options, request.options ?? {}, subPath(at, "options"), "option")
      if (Result.isFailure(decoded)) {
        problems.push(...decoded.failure)
        continue
      }
      const built = yield* (found.part.make(decoded.success, context.build) as unknown as Effect.Effect<Signal.Signal, { readonly message: string }>)
        .pipe(Effect.result)
      if (Result.isFailure(built)) {
        problems.push({ path: at, message: `${found.id}: ${built.failure.message}` })
        continue
      }
      const step = built.success.needs.step
      if (step !== undefined && typeof step !== "boolean" && step !== "hidden" && step !== "gradients") {
        problems.push({ path: at, message: `${found.id}: needs.step must be true, false, "hidden" or "gradients", got ${JSON.stringify(step)}` })
        continue
      }
      const refused = built.success.check?.(context)
      if (refused !== undefined) {
        problems.push({ path: at, message: refused })
        continue
      }
      out.push({ consumer, name, id: found.id, key: `${found.id} ${canonical(decoded.success)}`, signal: built.success, window, every })
    }
    return out
  })

/** The check context of a run from its FF layers, optimizer and probe availability. */
export const contextOf = (
  topology: Topology.Topology,
  slots: Signal.SignalContext["slots"],
  build: Plugin.BuildContext
): BindContext => ({ layers: topology.layers, slots, probe: true, build })
