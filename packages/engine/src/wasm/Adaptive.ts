/**
 * Picks, by timing, the faster of two equivalent ways to run a recurring call (here: a batched
 * attention product on XNNPACK's thread pool or on the calling thread only; both give the same
 * bits, only the speed differs, and which one wins depends on whether the machine's other cores
 * are busy: on the 2-core VM the pool is ~1.3x faster when it is quiet and 4-6x slower when another
 * job holds a core).
 *
 * Per key (a call's shape) it alternates the two variants until each has `trials` timings, then
 * runs the one with the lower median for `exploitCalls` calls, then measures again, so it follows
 * a machine whose load changes during a run. Deterministic given the clock; the clock is
 * injectable for tests.
 */

/** Tuning of a {@link Chooser}. */
export interface ChooserOptions {
  /** Timings of each variant per measuring round. */
  readonly trials: number
  /** Calls that run the winner before the next measuring round. */
  readonly exploitCalls: number
  /** The clock in milliseconds (default `performance.now`). */
  readonly now?: () => number
}

/** Default {@link ChooserOptions}: 3 timings each, then 200 calls (50 steps of a 4-layer model). */
const defaultOptions: ChooserOptions = { trials: 3, exploitCalls: 200 }

/** Which of the two variants won a key's last measuring round. */
type Choice = "first" | "second"

/** Runs one of two equivalent thunks for a key, learning which one is faster. */
export interface Chooser {
  readonly run: <A>(key: string, first: () => A, second: () => A) => A
  /** The current winner of a key (undefined while it is still being measured the first time). */
  readonly choice: (key: string) => Choice | undefined
}

interface KeyState {
  first: Array<number>
  second: Array<number>
  winner: Choice | undefined
  left: number
}

const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** Builds a chooser. */
export const make = (options: ChooserOptions = defaultOptions): Chooser => {
  const now = options.now ?? (() => performance.now())
  const states = new Map<string, KeyState>()
  const stateOf = (key: string): KeyState => {
    let s = states.get(key)
    if (s === undefined) {
      s = { first: [], second: [], winner: undefined, left: 0 }
      states.set(key, s)
    }
    return s
  }
  const run = <A>(key: string, first: () => A, second: () => A): A => {
    const s = stateOf(key)
    if (s.left > 0) {
      s.left--
      return s.winner === "second" ? second() : first()
    }
    // measuring: the variant with fewer timings goes next (first on ties)
    const useFirst = s.first.length <= s.second.length
    const t0 = now()
    const out = useFirst ? first() : second()
    const ms = now() - t0
    ;(useFirst ? s.first : s.second).push(ms)
    if (s.first.length >= options.trials && s.second.length >= options.trials) {
      s.winner = median(s.second) < median(s.first) ? "second" : "first"
      s.left = options.exploitCalls
      s.first = []
      s.second = []
    }
    return out
  }
  return { run, choice: (key) => states.get(key)?.winner }
}
