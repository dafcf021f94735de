/**
 * The `Engine` service: proof that a backend is initialised and selected, with what it reported.
 * Build it with {@link Engine.layer} (from a backend request and plugin providers) or
 * {@link Engine.layerTest} (the cpu backend).
 */
import type { BackendInfo, BackendProvider, UserError } from "@rekindle/core"
import { Context, Effect, Layer } from "effect"
import * as Backends from "./Backends.ts"

/** The initialised compute backend. */
export class Engine extends Context.Service<Engine, {
  /** What the backend reported at init (name, threads, simd, overrides). */
  readonly info: BackendInfo
}>()("@rekindle/engine/Engine") {
  /**
   * Initialises the requested backend (`auto` included) among built-ins plus `providers`, and
   * registers TF.js's gradient functions (see `Gradients.ts`), so code under an `Engine` can train.
   */
  static layer(
    request: Backends.BackendRequest,
    providers: ReadonlyArray<BackendProvider> = []
  ): Layer.Layer<Engine, UserError> {
    return Layer.effect(
      Engine,
      Effect.promise(() => import("./Gradients.ts")).pipe(
        Effect.andThen(Backends.init(request, providers)),
        Effect.map((info) => Engine.of({ info }))
      )
    )
  }

  /** The cpu backend: exact, single-threaded, for tests. */
  static readonly layerTest: Layer.Layer<Engine, UserError> = Engine.layer({ name: "cpu" })
}
