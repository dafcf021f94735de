/**
 * events.jsonl lines: every event round-trips; non-finite numbers (a loss that blew up, an
 * undefined statistic) survive as "NaN" / "Infinity" / "-Infinity" instead of turning into null;
 * events with finite numbers are written exactly as plain JSON.
 */
import { describe, expect, it } from "vitest"
import * as Event from "../src/Event.ts"

describe("Event lines", () => {
  it("round-trips non-finite numbers in number fields", () => {
    const events: Array<Event.Event> = [
      Event.Eval.make({ step: 3, loss: Number.NaN, accuracy: 0, batches: 1, tokens: 64 }),
      Event.TrainStep.make({ step: 4, loss: Number.POSITIVE_INFINITY, lr: 1e-3, tokens: 64, ms: 2, tokensPerSec: 32000 }),
      Event.Scatter.make({ step: 5, probe: "p", name: "NaN", x: [1, Number.NEGATIVE_INFINITY], y: [Number.NaN, 2], pearson: Number.NaN })
    ]
    for (const e of events) {
      const line = Event.encodeLine(e)
      expect(line).not.toContain("null")
      expect(Event.decodeLine(line)).toEqual(e)
    }
    expect(Event.encodeLine(events[0]!)).toBe(`{"_tag":"Eval","step":3,"loss":"NaN","accuracy":0,"batches":1,"tokens":64}`)
    // a string field that reads "NaN" stays a string
    expect((Event.decodeLine(Event.encodeLine(events[2]!)) as { name: string }).name).toBe("NaN")
  })

  it("writes finite events as plain JSON and rejects a null where a number belongs", () => {
    const e = Event.Scalar.make({ step: 1, probe: "probe/x", name: "v", layer: 0, value: 0.25 })
    expect(Event.encodeLine(e)).toBe(JSON.stringify(e))
    expect(() => Event.decodeLine(`{"_tag":"Eval","step":3,"loss":null,"accuracy":0,"batches":1,"tokens":64}`)).toThrow()
  })

  it("decodes a file leniently: blank, torn and unknown lines are skipped", () => {
    const a = Event.Eval.make({ step: 1, loss: Number.NaN, accuracy: 0.5, batches: 1, tokens: 8 })
    const b = Event.Scalar.make({ step: 2, probe: "p", name: "v", value: 1 })
    const text = [Event.encodeLine(a), "", `{"_tag":"FromTheFuture","step":3}`, Event.encodeLine(b), `{"_tag":"Sca`].join("\n")
    expect(Event.decodeLines(text)).toEqual([a, b])
  })
})
