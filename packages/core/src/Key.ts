/**
 * Explicit, splittable RNG keys (Equinox/JAX style). A key is a pure value; `split(key, purpose)`
 * derives an independent key for one purpose ("init", "data", "masking", "selection", "reinit",
 * "noise", ...), and `fold(key, n)` derives one per step or layer. Adding a new purpose never
 * shifts another purpose's stream, because every derivation hashes (parent, label) only.
 */

/** An RNG key: a 32-bit state plus the human-readable derivation path (for events and debugging). */
export interface Key {
  readonly state: number
  readonly path: string
}

const fmix32 = (h0: number): number => {
  let h = h0 >>> 0
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

const hashString = (seed: number, s: string): number => {
  let h = fmix32(seed ^ 0x9e3779b9)
  for (let i = 0; i < s.length; i++) h = fmix32(Math.imul(h ^ s.charCodeAt(i), 0x01000193))
  return fmix32(h ^ s.length)
}

/** The root key of a run, from the pipeline's master seed. */
export const make = (seed: number): Key => ({ state: fmix32(seed >>> 0 ^ 0x5bd1e995), path: `seed(${seed})` })

/** An independent key for one named purpose. */
export const split = (key: Key, purpose: string): Key => ({
  state: hashString(key.state, purpose),
  path: `${key.path}/${purpose}`
})

/** An independent key for an index (a step, a layer, an event number). */
export const fold = (key: Key, n: number): Key => ({
  state: hashString(key.state, `#${n}`),
  path: `${key.path}/${n}`
})

/** A 32-bit integer seed for TF.js random ops (`tf.randomUniform(..., seed)`). */
export const toSeed = (key: Key): number => key.state

/** sfc32's state [a, b, c, d] for a key, after the 12 warm-up draws. */
const seeded = (key: Key): Int32Array => {
  const s = new Int32Array(4)
  s[0] = key.state
  s[1] = fmix32(key.state ^ 0xdeadbeef)
  s[2] = fmix32(s[1] ^ 0x41c64e6d)
  s[3] = 1
  draw(s, new Float64Array(12))
  return s
}

/**
 * The next `out.length` uniform [0, 1) draws of sfc32 state `s` into `out`, advancing `s`. The
 * state stays in int32 arithmetic (`| 0`: the same bits as unsigned arithmetic mod 2^32), which V8
 * keeps unboxed in one tight loop.
 */
const draw = (s: Int32Array, out: Float64Array): void => {
  let a = s[0]!
  let b = s[1]!
  let c = s[2]!
  let d = s[3]!
  for (let i = 0; i < out.length; i++) {
    const t = (a + b + d) | 0
    d = (d + 1) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) | 0
    out[i] = (t >>> 0) / 4294967296
  }
  s[0] = a
  s[1] = b
  s[2] = c
  s[3] = d
}

/** A uniform [0, 1) generator (sfc32) seeded by the key; same key, same sequence (drawn in blocks). */
export const uniform = (key: Key): (() => number) => {
  const s = seeded(key)
  const block = new Float64Array(256)
  let i = block.length
  return () => {
    if (i === block.length) {
      draw(s, block)
      i = 0
    }
    return block[i++]!
  }
}

/**
 * `uniform(key)`'s sequence in blocks the caller gives (the fast path for filling large arrays
 * without holding all the draws at once): each call fills `out` with the next `out.length` draws.
 */
export const uniformBlocks = (key: Key): ((out: Float64Array) => void) => {
  const s = seeded(key)
  return (out) => draw(s, out)
}

/** A standard-normal generator (Box-Muller over `uniform`). */
export const normal = (key: Key): (() => number) => {
  const u = uniform(key)
  let spare: number | undefined
  return () => {
    if (spare !== undefined) {
      const s = spare
      spare = undefined
      return s
    }
    let u1 = u()
    while (u1 <= 0) u1 = u()
    const r = Math.sqrt(-2 * Math.log(u1))
    const th = 2 * Math.PI * u()
    spare = r * Math.sin(th)
    return r * Math.cos(th)
  }
}

/** A uniformly random permutation of 0..n-1 (Fisher-Yates), deterministic for the key. */
export const permutation = (key: Key, n: number): Int32Array => {
  const u = uniform(key)
  const p = new Int32Array(n)
  for (let i = 0; i < n; i++) p[i] = i
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(u() * (i + 1))
    const t = p[i]!
    p[i] = p[j]!
    p[j] = t
  }
  return p
}
