/**
 * Studies, in two forms. A grid study is a base pipeline, a grid of values for some of its paths,
 * and seeds: one variant per grid point and seed (like a grid launcher). An arms study is a set of
 * named, possibly unrelated pipelines (its arms) and seeds: one variant per arm and seed. Either
 * way every seed of a grid point (or arm) shares the variant's name, so results group by name.
 */
import { UserError } from "@rekindle/core"
import type { Problem } from "@rekindle/core"
import { Effect } from "effect"
import * as Paths from "./Paths.ts"
import type { AnyPipeline } from "./Types.ts"

/** Values to sweep, by dotted path; the paths and value types are checked against the base. */
export type Grid<P> = { readonly [K in Paths.Path<P>]?: ReadonlyArray<Paths.PathValue<P, K>> }

/** A grid study: a base pipeline swept over some of its paths. */
export interface GridStudy<P extends AnyPipeline = AnyPipeline> {
  readonly _tag: "Study"
  /** Study name (default: the base pipeline's name); variants are `<name>-<tags>`. */
  readonly name: string
  readonly base: P
  readonly grid: Grid<P>
  /** Seeds each grid point runs with (default: the base pipeline's seed). */
  readonly seeds?: ReadonlyArray<number>
}

/** An arms study: named pipelines, each run with every seed. */
export interface ArmsStudy<A extends Readonly<Record<string, AnyPipeline>> = Readonly<Record<string, AnyPipeline>>> {
  readonly _tag: "Study"
  /** Study name; variants are `<name>-<arm>`. */
  readonly name: string
  /** The arms by id (file-name safe: letters, digits, `.`, `_`, `=`, `-`), in the order they run. */
  readonly arms: A
  /** Seeds every arm runs with (default: each arm's own seed). */
  readonly seeds?: ReadonlyArray<number>
}

/** A study value (what a `.ts` file may default-export instead of a pipeline). */
export type Study<P extends AnyPipeline = AnyPipeline> = GridStudy<P> | ArmsStudy

/** Declares a study: a grid over a base pipeline, or named arms. Checked when expanded (an empty grid or no arms is an error). */
export function study<P extends AnyPipeline>(spec: {
  readonly base: P
  readonly grid: Grid<P>
  readonly seeds?: ReadonlyArray<number>
  readonly name?: string
}): GridStudy<P>
export function study<const A extends Readonly<Record<string, AnyPipeline>>>(spec: {
  readonly name: string
  readonly arms: A
  readonly seeds?: ReadonlyArray<number>
}): ArmsStudy<A>
export function study(spec: {
  readonly base?: AnyPipeline
  readonly grid?: Grid<AnyPipeline>
  readonly arms?: Readonly<Record<string, AnyPipeline>>
  readonly seeds?: ReadonlyArray<number>
  readonly name?: string
}): Study {
  const seeds = spec.seeds !== undefined ? { seeds: spec.seeds } : {}
  if (spec.arms !== undefined) return { _tag: "Study", name: spec.name ?? "study", arms: spec.arms, ...seeds }
  return { _tag: "Study", name: spec.name ?? spec.base!.name, base: spec.base!, grid: spec.grid ?? {}, ...seeds }
}

/** Whether a value is a study. */
export const isStudy = (u: unknown): u is Study =>
  typeof u === "object" && u !== null && (u as { _tag?: unknown })._tag === "Study"

/** Whether a study is made of named arms (rather than a grid). */
export const isArms = (s: Study): s is ArmsStudy => "arms" in s && (s as { arms?: unknown }).arms !== undefined

/** Every pipeline a study is built from: its base, or each of its arms. */
export const pipelinesOf = (s: Study): ReadonlyArray<AnyPipeline> =>
  isArms(s) ? Object.values(s.arms) : [s.base]

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

/** The problems of a study's seeds (none given is fine: the pipelines' own seeds). */
const seedProblems = (seeds: ReadonlyArray<unknown> | undefined): Array<Problem> => {
  const problems: Array<Problem> = []
  if (seeds === undefined) return problems
  if (!Array.isArray(seeds)) return [{ path: "seeds", message: `expected a list of integer seeds, e.g. [1, 2, 3], got ${JSON.stringify(seeds)}` }]
  if (seeds.length === 0) return [{ path: "seeds", message: "expected at least one seed" }]
  seeds.forEach((x, i) => {
    if (!Number.isInteger(x)) problems.push({ path: `seeds.${i}`, message: `expected an integer, got ${JSON.stringify(x)}` })
  })
  return problems
}

/** A file-name-safe arm id. */
const armId = /^[A-Za-z0-9][A-Za-z0-9._=-]*$/

/** Expands an arms study: arms in their order, seeds innermost. */
const armVariants = (s: ArmsStudy): Effect.Effect<ReadonlyArray<Variant>, UserError> =>
  Effect.suspend(() => {
    const problems: Array<Problem> = []
    const arms = typeof s.arms === "object" && s.arms !== null && !Array.isArray(s.arms) ? Object.entries(s.arms) : []
    if (arms.length === 0) {
      problems.push({ path: "arms", message: `expected at least one arm, e.g. arms: { baseline, recycled: withStage(baseline, {...}) }` })
    }
    for (const [id, p] of arms) {
      if (!armId.test(id)) problems.push({ path: `arms.${id}`, message: "an arm id must be file-name safe: letters, digits, '.', '_', '=' and '-', starting with a letter or digit" })
      if (typeof p !== "object" || p === null || Array.isArray(p)) problems.push({ path: `arms.${id}`, message: `expected a pipeline object, got ${p === null ? "null" : Array.isArray(p) ? "a list" : typeof p}` })
    }
    problems.push(...seedProblems(s.seeds))
    if (problems.length > 0) return fail(problems)
    return Effect.succeed(arms.flatMap(([arm, pipeline]) => {
      const name = `${s.name}-${arm}`
      return (s.seeds ?? [pipeline.seed ?? 1]).map((seed): Variant => ({ name, seed, tags: { arm, seed }, pipeline: { ...pipeline, name, seed } }))
    }))
  })

/** Expands a grid study (grid order, seeds innermost). */
const gridVariants = (s: GridStudy): Effect.Effect<ReadonlyArray<Variant>, UserError> =>
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
    problems.push(...seedProblems(s.seeds))
    if (problems.length > 0) return fail(problems)
    const seeds = s.seeds ?? [s.base.seed ?? 1]

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

/** Expands a study into its variants (grid order or arm order, seeds innermost). */
export const variants = (s: Study): Effect.Effect<ReadonlyArray<Variant>, UserError> =>
  isArms(s) ? armVariants(s) : gridVariants(s)
