/**
 * A finding's verdict: what our runs say about one of the reference study's findings, the rule
 * that decided it (stated next to the verdict in the report), and the figures it was computed from.
 */

/** The three answers a replication gives. */
export type Outcome = "reproduced" | "contradicted" | "inconclusive"

/** One verdict with its stated rule and a one-line reason. */
export interface Verdict {
  readonly outcome: Outcome
  /** The decision rule, fixed before looking at the data. */
  readonly rule: string
  /** Why this outcome, in numbers. */
  readonly reason: string
}

/** Combines verdicts that must all hold (e.g. an ordering of three arms as two comparisons). */
export const all = (rule: string, parts: ReadonlyArray<Verdict>): Verdict => {
  const reason = parts.map((p) => `${p.outcome}: ${p.reason}`).join("; ")
  if (parts.some((p) => p.outcome === "contradicted")) return { outcome: "contradicted", rule, reason }
  if (parts.length > 0 && parts.every((p) => p.outcome === "reproduced")) return { outcome: "reproduced", rule, reason }
  return { outcome: "inconclusive", rule, reason }
}
