/**
 * The adaptive chooser with a scripted clock: it alternates the two variants while measuring,
 * keeps the one with the lower median for the exploit window, then measures again and follows a
 * change; every call returns the value of the variant it ran.
 */
import { describe, expect, it } from "vitest"
import * as Adaptive from "../src/wasm/Adaptive.ts"

/** A clock that advances by the cost of whichever variant ran last. */
const scripted = () => {
  let t = 0
  const cost = { first: 10, second: 5 }
  return {
    cost,
    now: () => t,
    first: () => {
      t += cost.first
      return "first" as const
    },
    second: () => {
      t += cost.second
      return "second" as const
    }
  }
}

describe("Adaptive chooser", () => {
  it("measures both, runs the faster, and re-measures after the exploit window", () => {
    const c = scripted()
    const chooser = Adaptive.make({ trials: 2, exploitCalls: 3, now: c.now })
    const ran = () => chooser.run("k", c.first, c.second)
    // measuring: first, second, first, second
    expect([ran(), ran(), ran(), ran()]).toEqual(["first", "second", "first", "second"])
    expect(chooser.choice("k")).toBe("second")
    expect([ran(), ran(), ran()]).toEqual(["second", "second", "second"])
    // the machine changes: the first variant becomes faster; the next round finds it
    c.cost.first = 1
    expect([ran(), ran(), ran(), ran()]).toEqual(["first", "second", "first", "second"])
    expect(chooser.choice("k")).toBe("first")
    expect([ran(), ran(), ran()]).toEqual(["first", "first", "first"])
  })

  it("keeps separate state per key and prefers the first variant on a tie", () => {
    const c = scripted()
    c.cost.second = 10
    const chooser = Adaptive.make({ trials: 1, exploitCalls: 5, now: c.now })
    expect(chooser.choice("a")).toBeUndefined()
    chooser.run("a", c.first, c.second)
    chooser.run("a", c.first, c.second)
    expect(chooser.choice("a")).toBe("first")
    expect(chooser.choice("b")).toBeUndefined()
  })
})
