/** Option schemas of the reinitializers; every option has a description and a decoding default. */
import { Effect, Schema } from "effect"

/** Reinitializers without options. */
export const NoOptions = Schema.Struct({})

/** Options of `reinit/copy`. */
export const CopyOptions = Schema.Struct({
  noise: Schema.Finite.pipe(
    Schema.check(Schema.isGreaterThanOrEqualTo(0)),
    Schema.annotate({ description: "Gaussian noise std added to the copy, as a fraction of the parameter's current std (≥ 0)" }),
    Schema.withDecodingDefaultKey(Effect.succeed(0.05))
  )
})

/** Options of `reinit/smooth`. */
export const SmoothOptions = Schema.Struct({
  steps: Schema.Int.pipe(
    Schema.check(Schema.isGreaterThan(0)),
    Schema.annotate({ description: "Optimizer steps over which the blend α rises linearly from 0 to 1 (≥ 1)" }),
    Schema.withDecodingDefaultKey(Effect.succeed(100))
  )
})
