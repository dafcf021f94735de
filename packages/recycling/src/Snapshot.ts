/**
 * JSON for recycler state: typed arrays (criterion states, counters) are written as
 * `{ "$typed": "Float32Array", "data": [...] }` with NaN as null, and read back as typed arrays.
 */

const kinds = {
  Float32Array,
  Float64Array,
  Int32Array,
  Uint8Array
} as const

type Kind = keyof typeof kinds

/** A JSON value with typed arrays encoded. */
export const encode = (value: unknown): unknown => {
  for (const [name, ctor] of Object.entries(kinds)) {
    if (value instanceof ctor) return { $typed: name, data: Array.from(value as ArrayLike<number>, (x) => (Number.isNaN(x) ? null : x)) }
  }
  if (Array.isArray(value)) return value.map(encode)
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encode(v)]))
  }
  return value
}

/** The inverse of `encode`. */
export const decode = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(decode)
  if (value !== null && typeof value === "object") {
    const o = value as Record<string, unknown>
    if (typeof o.$typed === "string" && o.$typed in kinds && Array.isArray(o.data)) {
      const ctor = kinds[o.$typed as Kind]
      return new ctor((o.data as Array<number | null>).map((x) => (x === null ? Number.NaN : x)))
    }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, decode(v)]))
  }
  return value
}
