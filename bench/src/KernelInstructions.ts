/**
 * Load-independent before/after of a fused kernel: runs one variant of a kernel `reps` times (after
 * one warm-up call) so that `valgrind --tool=callgrind` can count the instructions (the count does
 * not depend on the machine's load, unlike any timing on a shared VM). Run each variant with
 * `--reps 0` and `--reps N` and take (Ir(N) − Ir(0)) / N: the instructions of one call, start-up
 * excluded. Not a test.
 *
 *   valgrind --tool=callgrind --callgrind-out-file=/dev/null node --import tsx bench/src/KernelInstructions.ts --case adam --variant fused --reps 4
 *
 * Cases (reference shapes): `adam` ([256,1024] parameter: `composed` = RekindleAdam then the
 * learning-rate multiply, `fused` = RekindleAdamW; with `--decay` the AdamW decay too).
 */
import "@rekindle/engine/Gradients"
import { Backends } from "@rekindle/engine"
import * as tf from "@tensorflow/tfjs-core"
import { Effect } from "effect"
import { arg } from "./Args.ts"

const main = async () => {
  await Effect.runPromise(Backends.init({ name: "wasm", threads: 1, blas: "none" }, []))
  const variant = arg("variant", "fused")
  const reps = Number(arg("reps", "4"))
  const decay = process.argv.includes("--decay")
  const shape = [256, 1024]
  const g = tf.randomNormal(shape), mu = tf.zeros(shape), nu = tf.zeros(shape), bc1 = tf.zeros(shape), bc2 = tf.zeros(shape), p = tf.randomNormal(shape)
  const attrs = { b1: 0.9, b2: 0.999, eps: 1e-8 }
  const once = () =>
    tf.tidy(() => {
      if (variant === "fused") {
        const out = tf.engine().runKernel("RekindleAdamW", { g, mu, nu, bc1, bc2, ...(decay ? { p } : {}) } as unknown as tf.NamedTensorMap, { ...attrs, scale: -1e-3, ...(decay ? { wd: 0.01 } : {}) }) as unknown as Array<tf.Tensor>
        return out[4]!.dataSync()[0]
      }
      const out = tf.engine().runKernel("RekindleAdam", { g, mu, nu, bc1, bc2 } as unknown as tf.NamedTensorMap, attrs) as unknown as Array<tf.Tensor>
      const u = decay ? tf.add(out[4]!, tf.mul(p, 0.01)) : out[4]!
      return tf.mul(u, -1e-3).dataSync()[0]
    })
  once()
  for (let r = 0; r < reps; r++) once()
  console.log(`${variant}${decay ? " +decay" : ""}: ${reps} reps done`)
}

if (import.meta.url === `file://${process.argv[1]}`) void main().then(() => process.exit(0))
