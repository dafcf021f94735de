/**
 * The `cpu` backend provider: tfjs-backend-cpu, plain JavaScript, one thread. Slow (about 0.7
 * GFLOP/s on a matMul here) but dependency-free and exact; tests use it as the reference.
 */
import { BackendError, type BackendInfo, type BackendProvider } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import { Effect } from "effect"

/** Registers (by import) and selects the cpu backend. */
export const provider: BackendProvider = {
  name: "cpu",
  priority: 0,
  available: Effect.succeed(true),
  init: () =>
    Effect.tryPromise({
      try: async (): Promise<BackendInfo> => {
        await import("@tensorflow/tfjs-backend-cpu")
        if (!(await tf.setBackend("cpu"))) throw new BackendError({ backend: "cpu", message: "tfjs could not initialise the cpu backend" })
        // skip the "install tfjs-node" banner tfjs-backend-cpu prints on its first write under Node
        ;(tf.backend() as { firstUse?: boolean }).firstUse = false
        return { name: "cpu", threads: 1, simd: false, overrides: false }
      },
      catch: (cause) => new BackendError({ backend: "cpu", message: `cpu backend failed to initialise: ${String(cause)}` })
    })
}
