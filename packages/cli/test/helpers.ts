/**
 * Running the CLI in-process: exit code plus captured stdout/stderr lines; a stand-in trainer
 * that writes a run folder the way the real one does (pipeline.json, manifest.json, events.jsonl).
 */
import { NodeServices } from "@effect/platform-node"
import { Event } from "@rekindle/core"
import { folderName, hashOf, writeJsonAtomic } from "@rekindle/run"
import { Effect, FileSystem, Path } from "effect"
import type { Command } from "effect/cli"
import { TestConsole } from "effect/testing"
import { fileURLToPath } from "node:url"
import * as Cli from "../src/Cli.ts"
import * as Run from "../src/commands/Run.ts"

/** Absolute path of a fixture. */
export const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))

/** What a CLI invocation did. */
export interface Outcome {
  readonly code: number
  readonly out: string
  readonly err: string
}

/** Runs `rekindle <argv>` in-process with the given root command. */
export const runWith = <Name extends string, I, C, E, R extends NodeServices.NodeServices>(root: Command.Command<Name, I, C, E, R>) =>
(argv: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    // the test console keeps every line of the test; take only this invocation's
    const outBefore = (yield* TestConsole.logLines).length
    const errBefore = (yield* TestConsole.errorLines).length
    const code = yield* Cli.runCommand(root)(argv)
    const out = (yield* TestConsole.logLines).slice(outBefore).map(String).join("\n")
    const err = (yield* TestConsole.errorLines).slice(errBefore).map(String).join("\n")
    return { code, out, err } satisfies Outcome
  }).pipe(Effect.provide(NodeServices.layer))

/** Runs the built-in CLI in-process. */
export const cli = runWith(Cli.root)

/** Calls made to the stand-in trainer. */
export const calls: Array<{ name: string; seed: number; outDir: string }> = []

/**
 * A stand-in for `Experiment.run`: writes the run folder with a loss curve that depends on the
 * plan's learning rate and seed, so tables have known values.
 */
export const fakeTrainer: Run.RunFn = (plan, options) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    calls.push({ name: plan.name, seed: plan.seed, outDir: options.outDir })
    const dir = path.resolve(options.outDir, folderName(plan.name, hashOf(plan.resolved)))
    yield* fs.makeDirectory(dir, { recursive: true })
    yield* writeJsonAtomic(path.join(dir, "pipeline.json"), plan.resolved)
    const lr = (plan.resolved as { optimizer: { lr: number } }).optimizer.lr
    const steps = plan.train.steps
    const loss = (s: number) => 10 * lr + plan.seed / 100 + (steps - s) / steps
    const time = "2026-01-01T00:00:00.000Z"
    const events: Array<Event.Event> = [
      Event.RunStarted.make({ time, run: path.basename(dir), pipelineHash: "x", seed: plan.seed, backend: { name: "cpu", threads: 1, simd: false, overrides: false }, parameters: 1, steps })
    ]
    for (let s = 1; s <= steps; s++) events.push(Event.TrainStep.make({ step: s, loss: loss(s), lr, tokens: 1, ms: 1, tokensPerSec: 1 }))
    const finalEvalLoss = loss(steps) + 0.5
    events.push(Event.Eval.make({ step: steps, loss: finalEvalLoss, accuracy: 0.5, batches: 1, tokens: 1 }))
    events.push(Event.RunFinished.make({ time, step: steps, finalLoss: loss(steps), finalEvalLoss }))
    yield* fs.writeFileString(path.join(dir, "events.jsonl"), events.map((e) => Event.encodeLine(e) + "\n").join(""))
    yield* writeJsonAtomic(path.join(dir, "manifest.json"), {
      name: plan.name,
      pipelineHash: "x",
      seed: plan.seed,
      status: "finished",
      startedAt: time,
      endedAt: time,
      steps,
      stepsDone: steps,
      versions: {},
      node: process.version
    })
    return { dir, finalLoss: loss(steps), finalEvalLoss }
  }).pipe(Effect.orDie)

/** The CLI with the stand-in trainer. */
export const cliWithFakeTrainer = runWith(Cli.make([Run.make(Effect.succeed(fakeTrainer))]))
