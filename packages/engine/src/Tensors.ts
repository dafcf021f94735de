/**
 * Tensor lifetime helpers. Numeric code is synchronous inside `tf.tidy`; Effect owns everything
 * around it. Long-lived tensors (weights, optimizer state) are `tf.Variable`s acquired in a
 * `Scope` and disposed when it closes. Never edit a tensor's memory in place: on wasm, packed
 * copies of weights are cached by tensor id; make a new tensor and `assign` it instead.
 */
import * as tf from "@tensorflow/tfjs-core"
import { Effect, Schema, type Scope } from "effect"
import { Bug } from "@rekindle/core"

/**
 * Runs synchronous numeric code inside `tf.tidy`: every tensor `f` creates and does not return is
 * disposed. A throw inside `f` is a defect (numeric code failing is a bug).
 */
export const scoped = <A extends tf.TensorContainer>(f: () => A): Effect.Effect<A> => Effect.sync(() => tf.tidy(f))

/**
 * `tf.tidy` for any value holding tensors (an `OptState`, a tuple of maps, ...): `tf.tidy` walks
 * nested plain objects and arrays at runtime but its types only accept `TensorContainer`, which
 * interfaces like `OptState` are not. Tensors reachable from the result are kept; every other
 * tensor made inside `fn` is disposed. The one tidy helper of the project.
 */
export const tidy = <A>(fn: () => A): A => tf.tidy(() => fn() as unknown as tf.TensorContainer) as unknown as A

/**
 * Runs `f` in a tidy scope that keeps nothing: for code that reads tensors back into plain values
 * (`dataSync`, `arraySync`). Every tensor created inside is disposed, so `A` must hold none.
 */
export const tidyValue = <A>(f: () => A): A => {
  let out: A | undefined
  tf.tidy(() => {
    out = f()
  })
  return out as A
}

/** Variables made from a record of tensors, same keys. */
export type Variables<R> = { readonly [K in keyof R]: tf.Variable }

/** Options of {@link acquireVariables}. */
export interface VariableOptions {
  /** Whether optimizers may update them (default true). */
  readonly trainable?: boolean
  /** Prefix of the tfjs variable names (unique names are generated when absent). */
  readonly namePrefix?: string
}

/**
 * Creates one `tf.Variable` per entry, disposed when the scope closes. Pass a thunk to build the
 * initial values: it runs inside `tf.tidy`, so its temporaries (and the initial tensors, which
 * the variables copy) are freed. Passing tensors directly leaves them owned by the caller.
 */
export const acquireVariables = <R extends Readonly<Record<string, tf.Tensor>>>(
  init: R | (() => R),
  options: VariableOptions = {}
): Effect.Effect<Variables<R>, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const make = (values: R): Variables<R> => {
        const out: Record<string, tf.Variable> = {}
        for (const [k, t] of Object.entries(values)) {
          const name = options.namePrefix === undefined ? undefined : `${options.namePrefix}${k}`
          out[k] = tf.variable(t, options.trainable ?? true, name)
        }
        return out as Variables<R>
      }
      if (typeof init !== "function") return make(init)
      return tidyValue(() => make((init as () => R)()))
    }),
    (vars) =>
      Effect.sync(() => {
        for (const v of Object.values<tf.Variable>(vars)) v.dispose()
      })
  )

/** Tensors were created and not disposed. */
export class TensorLeak extends Schema.TaggedError<TensorLeak>()("TensorLeak", {
  before: Schema.Number,
  after: Schema.Number,
  message: Schema.String
}) {}

/** Live tensors now (`tf.memory().numTensors`). */
export const liveTensors = (): number => tf.memory().numTensors

const leakMessage = (before: number, after: number): string =>
  `tensor leak: ${after - before} tensor(s) (${before} live before, ${after} after)`

/** Runs `effect` and fails with {@link TensorLeak} if the live tensor count changed. */
export const leakCheck = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | TensorLeak, R> =>
  Effect.suspend(() => {
    const before = liveTensors()
    return Effect.flatMap(effect, (a) => {
      const after = liveTensors()
      return after === before ? Effect.succeed(a) : Effect.fail(new TensorLeak({ before, after, message: leakMessage(before, after) }))
    })
  })

/**
 * Test helper: runs `fn` and throws if the live tensor count differs afterwards. Returns what
 * `fn` returned (which must then not be a new tensor; read it back inside `fn`).
 */
export const expectNoTensorLeak = <A>(fn: () => A): A => {
  const before = liveTensors()
  const a = fn()
  const after = liveTensors()
  if (after !== before) throw new Bug(leakMessage(before, after))
  return a
}
