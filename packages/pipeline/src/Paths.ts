/**
 * Dotted paths into pipelines (`recycling.0.select.fraction`): the type of every valid path of a
 * pipeline type, the type of the value at a path, and an immutable deep set used by `override`,
 * studies and `--set`.
 */
import { UserError } from "@rekindle/core"

type Prev = [never, 0, 1, 2, 3, 4, 5, 6, 7]

/** Every dotted path into `T` (array elements as numbers; `plugins` excluded), up to depth 8. */
export type Path<T, D extends number = 8> = [D] extends [never] ? never
  : T extends ReadonlyArray<infer E> ? `${number}` | `${number}.${Path<E, Prev[D]>}`
  : T extends object ? {
      [K in Exclude<keyof T, "plugins"> & string]-?: K | `${K}.${Path<NonNullable<T[K]>, Prev[D]>}`
    }[Exclude<keyof T, "plugins"> & string]
  : never

/** The type of the value at path `P` of `T`. */
export type PathValue<T, P extends string> = T extends ReadonlyArray<infer E>
  ? P extends `${number}.${infer R}` ? PathValue<E, R> : P extends `${number}` ? E : never
  : P extends `${infer K}.${infer R}` ? K extends keyof T ? PathValue<NonNullable<T[K]>, R> : never
  : P extends keyof T ? Exclude<T[P], undefined>
  : never

const isIndex = (s: string) => /^(0|[1-9][0-9]*)$/.test(s)

/** The value at a dotted path, or `undefined` when absent. */
export const get = (value: unknown, path: string): unknown => {
  let cur: unknown = value
  for (const seg of path.split(".")) {
    if (cur === null || typeof cur !== "object") return undefined
    cur = (cur as Record<string, unknown>)[seg]
  }
  return cur
}

/**
 * Returns a copy of `value` with `path` set to `v` (objects on the way are copied, missing ones
 * created). Fails when the path crosses a non-object or indexes past the end of an array.
 */
export const set = <T>(value: T, path: string, v: unknown): T => {
  const segs = path.split(".")
  if (path === "" || segs.some((s) => s === "")) throw new UserError({ message: `invalid path "${path}"`, problems: [{ path, message: "invalid path" }] })
  const go = (cur: unknown, i: number): unknown => {
    if (i === segs.length) return v
    const seg = segs[i]!
    const here = segs.slice(0, i).join(".")
    if (cur === undefined) cur = isIndex(seg) ? [] : {}
    if (Array.isArray(cur)) {
      if (!isIndex(seg)) {
        const message = `"${here}" is a list; expected an index, got "${seg}"`
        throw new UserError({ message: `${path}: ${message}`, problems: [{ path, message }] })
      }
      const n = Number(seg)
      if (n > cur.length) {
        const message = `"${here}" has ${cur.length} entries; index ${n} is out of range`
        throw new UserError({ message: `${path}: ${message}`, problems: [{ path, message }] })
      }
      const copy = [...cur]
      copy[n] = go(cur[n], i + 1)
      return copy
    }
    if (cur === null || typeof cur !== "object") {
      const message = `"${here}" is ${JSON.stringify(cur)}, not an object`
      throw new UserError({ message: `${path}: ${message}`, problems: [{ path, message }] })
    }
    return { ...(cur as Record<string, unknown>), [seg]: go((cur as Record<string, unknown>)[seg], i + 1) }
  }
  return go(value, 0) as T
}
