/**
 * The framework against the PyTorch peer in alternating blocks: `rounds` rounds, each a block of
 * `steps` consecutive framework steps in this process and a run of the peer (its own warm-up, then
 * `steps` timed steps), the block that goes first alternating from round to round. Each round
 * gives a ratio (peer's median step / the framework's median step = rekindle tokens/s ÷ PyTorch
 * tokens/s); the duel reports the median and range of those ratios. One block against one peer run
 * (the table's `--peers` line) moves with the machine's drift between the two; alternation puts
 * both sides under the same drift, and the spread of the round ratios says how far one figure can
 * be trusted.
 *
 * Only one side runs at a time (the peer is a child process the framework waits for). The
 * framework's steps are the table's (`frameworkSteps`: Trainer, TrainLoop, Adam, events to the
 * real jsonl sink), run back to back as the peer runs its own; it warms up once, before the first
 * round (the process stays warm), the peer in every run.
 */
import { NodeServices } from "@effect/platform-node"
import { Model } from "@rekindle/model"
import { Effect, Schema } from "effect"
import type { BenchConfig } from "./Configs.ts"
import { pytorchPeer } from "./Peer.ts"
import { frameworkSteps, timedJsonlBus } from "./Run.ts"
import { type Summary, summarize } from "./Stats.ts"
import * as Synthetic from "./Synthetic.ts"

/** One round: each side's median step in ms, which went first, and their ratio. */
interface DuelRound {
  readonly rekindleFirst: boolean
  readonly rekindleMs: number
  readonly peerMs: number
  /** peerMs / rekindleMs: above 1, rekindle is faster. */
  readonly ratio: number
}

/** What a duel measured. */
export interface DuelResult {
  readonly rounds: ReadonlyArray<DuelRound>
  /** Over the rounds' ratios. */
  readonly ratio: Summary
  readonly rekindleMs: Summary
  readonly peerMs: Summary
}

/**
 * Runs `rounds` rounds of the two blocks (each an effect giving a median step in ms), the framework
 * first in even rounds and the peer first in odd ones. A failing block ends the duel with its error.
 */
export const alternate = <E1, R1, E2, R2>(
  rounds: number,
  rekindle: Effect.Effect<number, E1, R1>,
  peer: Effect.Effect<number, E2, R2>
): Effect.Effect<DuelResult, E1 | E2, R1 | R2> =>
  Effect.gen(function*() {
    const out: Array<DuelRound> = []
    for (let r = 0; r < rounds; r++) {
      const rekindleFirst = r % 2 === 0
      let rekindleMs: number
      let peerMs: number
      if (rekindleFirst) {
        rekindleMs = yield* rekindle
        peerMs = yield* peer
      } else {
        peerMs = yield* peer
        rekindleMs = yield* rekindle
      }
      out.push({ rekindleFirst, rekindleMs, peerMs, ratio: peerMs / rekindleMs })
    }
    return {
      rounds: out,
      ratio: summarize(out.map((r) => r.ratio)),
      rekindleMs: summarize(out.map((r) => r.rekindleMs)),
      peerMs: summarize(out.map((r) => r.peerMs))
    }
  })

/** Why the duel could not run (no python with torch, a failing peer). */
class PeerUnavailable extends Schema.TaggedError<PeerUnavailable>()("PeerUnavailable", {
  reason: Schema.String
}) {}

/** The duel on one configuration on the current backend, with the peer on `threads` threads. */
export const duel = (c: BenchConfig, options: { steps: number; warmup: number; rounds: number }, threads: number) =>
  Effect.gen(function*() {
    const model = Model.make(c.model)
    const stream = Synthetic.stream(c.batchSize, c.model.seqLen, c.model.vocabSize)
    const { bus } = yield* timedJsonlBus
    const { loop, step } = frameworkSteps(model, c, stream, bus)
    let s = 0
    for (; s < options.warmup; s++) yield* step(s)
    const rekindle = Effect.gen(function*() {
      const times: Array<number> = []
      for (let i = 0; i < options.steps; i++, s++) {
        const t0 = performance.now()
        yield* step(s)
        times.push(performance.now() - t0)
      }
      return summarize(times).median
    })
    const peer = Effect.suspend(() => {
      const r = pytorchPeer(c.name, threads, options.steps, options.warmup)
      return "error" in r ? Effect.fail(new PeerUnavailable({ reason: r.error })) : Effect.succeed(r.stepMs)
    })
    const result = yield* alternate(options.rounds, rekindle, peer).pipe(Effect.ensuring(Effect.sync(() => loop.dispose())))
    return result
  }).pipe(Effect.scoped, Effect.provide(NodeServices.layer))
