/**
 * log/jsonl reopening an existing events file (a resumed run): complete lines are kept, a torn
 * last line left by a crash is cut before anything is appended, so no new event is glued onto a
 * fragment.
 */
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Event, RunLocation } from "@rekindle/core"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as Jsonl from "../src/Jsonl.ts"

const step = (n: number) => Event.TrainStep.make({ step: n, loss: 3, lr: 1e-3, tokens: 10, ms: 1, tokensPerSec: 10 })

const appendTo = (dir: string, events: ReadonlyArray<Event.Event>) =>
  Effect.scoped(Effect.gen(function*() {
    const sink = yield* Jsonl.make({ file: "events.jsonl" })
    for (const e of events) yield* sink.write(e)
    yield* sink.flush
  })).pipe(Effect.provideService(RunLocation, RunLocation.of({ path: dir })), Effect.provide(NodeServices.layer))

describe("log/jsonl on an existing file", () => {
  it.effect("keeps complete lines and cuts a torn last line before appending", () =>
    Effect.gen(function*() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-jsonl-torn-"))
      const file = path.join(dir, "events.jsonl")
      fs.writeFileSync(file, Event.encodeLine(step(1)) + "\n" + Event.encodeLine(step(2)).slice(0, 17))
      yield* appendTo(dir, [step(2), step(3)])
      const lines = fs.readFileSync(file, "utf8").split("\n")
      expect(lines.at(-1)).toBe("")
      expect(lines.slice(0, -1).map(Event.decodeLine)).toEqual([step(1), step(2), step(3)])
      // a clean file is appended to unchanged
      yield* appendTo(dir, [step(4)])
      expect(fs.readFileSync(file, "utf8").split("\n").slice(0, -1).map(Event.decodeLine)).toEqual([step(1), step(2), step(3), step(4)])
    }))
})
