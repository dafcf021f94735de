// Run as its own process by Tokenizer.test.ts: trains a vocabulary into a cold cache (argv[2]), so
// the test can read exactly what the process wrote to stdout and stderr.
import { NodeServices } from "@effect/platform-node"
import { Effect } from "effect"
import { hashStrings } from "../../src/Cache.ts"
import { brown } from "../../src/Corpus.ts"
import { trained } from "../../src/TokenizerTraining.ts"

const program = Effect.gen(function*() {
  const docs = yield* brown(12)
  yield* trained(docs, hashStrings(docs), { vocabSize: 600, lowercase: true }, process.argv[2]!)
})
await Effect.runPromise(program.pipe(Effect.provide(NodeServices.layer)))
