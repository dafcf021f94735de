/**
 * What "the same run" means, as code. Two runs of one pipeline, seed, backend and thread count
 * write identical `events.jsonl` files apart from wall-clock fields (`time`, `ms`,
 * `tokensPerSec`, see core `Event.stripTimings`) and resume markers (a resumed run appends a
 * `RunStarted` event with `resumedFrom`; everything else matches the uninterrupted run).
 *
 * `events.jsonl` is read strictly: only newline-terminated lines are data; a last line without
 * its newline is a torn write from a crash and is reported, never parsed.
 */
import { Event } from "@rekindle/core"
import { Effect, FileSystem } from "effect"
import * as Files from "./Files.ts"

/** The lines of an events file: complete ones, and a torn tail (no trailing newline) if any. */
export interface EventLines {
  readonly lines: ReadonlyArray<string>
  /** Byte length of the complete lines (where a torn tail starts). */
  readonly completeBytes: number
  readonly torn: string | undefined
}

/** Splits events.jsonl bytes into complete lines and a torn tail. */
export const splitLines = (bytes: Uint8Array): EventLines => {
  const lastNewline = bytes.lastIndexOf(0x0a)
  const completeBytes = lastNewline + 1
  const decoder = new TextDecoder()
  const head = decoder.decode(bytes.subarray(0, completeBytes))
  const tail = bytes.subarray(completeBytes)
  return {
    lines: head === "" ? [] : head.slice(0, -1).split("\n"),
    completeBytes,
    torn: tail.length > 0 ? decoder.decode(tail) : undefined
  }
}

/** A decoded events file. */
export interface EventsFile {
  readonly file: string
  readonly events: ReadonlyArray<Event.Event>
  /** A torn last line (dropped). */
  readonly torn: string | undefined
  /** Complete lines that did not decode (1-based line numbers). */
  readonly bad: ReadonlyArray<{ readonly line: number; readonly problem: string }>
}

/** Decodes the complete lines of events.jsonl text/bytes. */
export const parse = (file: string, bytes: Uint8Array): EventsFile => {
  const { lines, torn } = splitLines(bytes)
  const events: Array<Event.Event> = []
  const bad: Array<{ line: number; problem: string }> = []
  lines.forEach((line, i) => {
    try {
      events.push(Event.decodeLine(line))
    } catch (e) {
      bad.push({ line: i + 1, problem: e instanceof Error ? e.message.split("\n")[0]! : String(e) })
    }
  })
  return { file, events, torn, bad }
}

/** Reads and decodes an events file (fails with a readable message when it cannot be read). */
export const read = (file: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const bytes = yield* fs.readFile(file).pipe(Effect.mapError((e) => new Error(`${file}: ${Files.describe(e)}`)))
    return parse(file, bytes)
  })

/** Whether an event is a resume marker (a `RunStarted` with `resumedFrom`). */
export const isResumeMarker = (e: Event.Event): boolean => e._tag === "RunStarted" && e.resumedFrom !== undefined

/** Events as compared across runs: resume markers dropped, wall-clock fields removed. */
export const comparable = (events: ReadonlyArray<Event.Event>): Array<Record<string, unknown>> =>
  events.filter((e) => !isResumeMarker(e)).map(Event.stripTimings)

/** The first place two runs' events differ. */
export interface Difference {
  /** 0-based index into the comparable events. */
  readonly index: number
  /** The differing field (`loss`, `indices.3`, ...) or `""` for a whole event. */
  readonly path: string
  readonly expected: unknown
  readonly actual: unknown
  readonly expectedEvent: Record<string, unknown> | undefined
  readonly actualEvent: Record<string, unknown> | undefined
}

/** The outcome of comparing two event lists. */
export interface Comparison {
  readonly equal: boolean
  /** Comparable events in the expected list. */
  readonly count: number
  readonly difference?: Difference
}

const firstDifference = (a: unknown, b: unknown, path: string): { path: string; expected: unknown; actual: unknown } | undefined => {
  if (Object.is(a, b)) return undefined
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) {
    return { path, expected: a, actual: b }
  }
  const join = (k: string) => (path === "" ? k : `${path}.${k}`)
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (i >= a.length || i >= b.length) return { path: join(String(i)), expected: a[i], actual: b[i] }
      const d = firstDifference(a[i], b[i], join(String(i)))
      if (d !== undefined) return d
    }
    return undefined
  }
  const ra = a as Record<string, unknown>
  const rb = b as Record<string, unknown>
  const keys = [...new Set([...Object.keys(ra), ...Object.keys(rb)])].sort()
  for (const k of keys) {
    const d = firstDifference(ra[k], rb[k], join(k))
    if (d !== undefined) return d
  }
  return undefined
}

/** Compares two runs' events (see `comparable`); reports the first difference. */
export const compare = (expected: ReadonlyArray<Event.Event>, actual: ReadonlyArray<Event.Event>): Comparison => {
  const a = comparable(expected)
  const b = comparable(actual)
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = firstDifference(a[i], b[i], "")
    if (d !== undefined) {
      return { equal: false, count: a.length, difference: { index: i, ...d, expectedEvent: a[i], actualEvent: b[i] } }
    }
  }
  return { equal: true, count: a.length }
}

const show = (v: unknown): string => {
  const s = JSON.stringify(v)
  return s === undefined ? "(absent)" : s.length > 160 ? `${s.slice(0, 157)}...` : s
}

/** A human-readable account of a comparison. */
export const describe = (c: Comparison, labels: { readonly expected: string; readonly actual: string } = { expected: "original", actual: "reproduction" }): string => {
  if (c.equal) return `identical: ${c.count} events match (ignoring ${Event.timingFields.join(", ")} and resume markers)`
  const d = c.difference!
  const where = (e: Record<string, unknown> | undefined) =>
    e === undefined ? "(no event)" : `${String(e._tag)}${"step" in e ? ` at step ${String(e.step)}` : ""}`
  const lines = [
    `events differ at comparable event #${d.index + 1}: ${labels.expected} has ${where(d.expectedEvent)}, ${labels.actual} has ${where(d.actualEvent)}`
  ]
  if (d.expectedEvent !== undefined && d.actualEvent !== undefined) {
    lines.push(`  field ${d.path === "" ? "(whole event)" : d.path}: ${labels.expected} ${show(d.expected)}, ${labels.actual} ${show(d.actual)}`)
  }
  return lines.join("\n")
}
