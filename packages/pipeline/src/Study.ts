/**
 * Studies: a base pipeline, a grid of values for some of its paths, and seeds. A study expands
 * into named, tagged variants, one per grid point and seed (like a grid launcher): every seed of
 * a grid point shares the variant's name, so results group by name.
 */
import { UserError } from "@rekindle/core"
import type { Problem } from "@rekindle/core"
import { Effect } from "effect"
import * as Paths from "./Paths.ts"
import type { AnyPipeline } from "./Types.ts"

/** Values to sweep, by dotted path; the paths and value types are checked against the base. */
export type Grid<P> = { readonly [K in Paths.Path<P>]?: ReadonlyArray<Paths.PathValue<P, K>> }

/** A study value (what a `.ts` file may default-export instead of a pipeline). */
export interface Study<P extends AnyPipeline = AnyPipeline> {
  readonly _tag: "Study"
  /** Study name (default: the base pipeline's name); variants are `<name>-<tags>`. */
  readonly name: string
  readonly base: P
  readonly grid: Grid<P>
  /** Seeds each grid point runs with (default: the base pipeline's seed). */
  readonly seeds?: ReadonlyArray<number>
}

/** Declares a study. Checked when expanded (an empty grid is an error). */
export const study = <P extends AnyPipeline>(spec: {
  readonly base: P
  readonly grid: Grid<P>
  readonly seeds?: ReadonlyArray<number>
  readonly name?: string
}): Study<P> => ({
  _tag: "Study",
  name: spec.name ?? spec.base.name,
  base: spec.base,
  grid: spec.grid,
  ...(spec.seeds !== undefined ? { seeds: spec.seeds } : {})
})

/** Whether a value is a study. */
export const isStudy = (u: unknown): u is Study =>
  typeof u === "object" && u !== null && (u as { _tag?: unknown })._tag === "Study"

/** One expanded variant. */
export interface Variant {
  /** Variant name (the run name; shared by every seed of a grid point). */
  readonly name: string
  readonly seed: number
  /** Swept values by short key, plus `seed`. */
  readonly tags: Readonly<Record<string, unknown>>
  /** The pipeline of this variant. */
  readonly pipeline: AnyPipeline
}

/** Short keys for grid paths: the last segment, lengthened until unique. */
const shortKeys = (paths: ReadonlyArray<string>): Array<string> => {
  const segs = paths.map((p) => p.split("."))
  return segs.map((s, i) => {
    for (let n = 1; n <= s.length; n++) {
      const key = s.slice(-n).join(".")
      if (segs.every((o, j) => j === i || o.slice(-n).join(".") !== key)) return key
    }
    return paths[i]!
  })
}

/** A value as a short, file-name-safe tag. */
export const tagValue = (v: unknown): string => {
  const raw = typeof v === "object" && v !== null && typeof (v as { use?: unknown }).use === "string"
    ? String((v as { use: string }).use).split("/").at(-1)!
    : typeof v === "string" ? v : JSON.stringify(v)
  return raw.replace(/[^A-Za-z0-9._=-]+/g, "_").replace(/^_+|_+$/g, "")
}

const fail = (problems: Array<Problem>) =>
  Effect.fail(new UserError({ message: `invalid study:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join("\n")}`, problems }))

/** Expands a study into its variants (grid order, seeds innermost). */
export const variants = (s: Study): Effect.Effect<ReadonlyArray<Variant>, UserError> =>
  Effect.suspend(() => {
    const paths = Object.keys(s.grid)
    const problems: Array<Problem> = []
    if (paths.length === 0) {
      problems.push({ path: "grid", message: `empty grid: sweep at least one path, e.g. grid: { "optimizer.lr": [1e-3, 3e-4] }` })
    }
    const grid = s.grid as Readonly<Record<string, ReadonlyArray<unknown>>>
    for (const p of paths) {
      if (!Array.isArray(grid[p]) || grid[p].length === 0) problems.push({ path: `grid.${p}`, message: "expected a non-empty list of values" })
    }
    const seeds = s.seeds ?? [s.base.seed ?? 1]
    if (seeds.length === 0) problems.push({ path: "seeds", message: "expected at least one seed" })
    seeds.forEach((x, i) => {
      if (!Number.isInteger(x)) problems.push({ path: `seeds.${i}`, message: `expected an integer, got ${JSON.stringify(x)}` })
    })
    if (problems.length > 0) return fail(problems)

    const keys = shortKeys(paths)
    let points: Array<Array<unknown>> = [[]]
    for (const p of paths) points = points.flatMap((pt) => grid[p]!.map((v) => [...pt, v]))
    const out: Array<Variant> = []
    for (const pt of points) {
      const name = [s.name, ...pt.map((v, i) => `${keys[i]}=${tagValue(v)}`)].join("-")
      let pipeline: AnyPipeline = s.base
      try {
        pt.forEach((v, i) => {
          pipeline = Paths.set(pipeline, paths[i]!, v)
        })
      } catch (e) {
        return Effect.fail(e as UserError)
      }
      for (const seed of seeds) {
        const tags: Record<string, unknown> = {}
        pt.forEach((v, i) => (tags[keys[i]!] = v))
        tags["seed"] = seed
        out.push({ name, seed, tags, pipeline: { ...pipeline, name, seed } })
      }
    }
    return Effect.succeed(out)
  })
