/**
 * The replication study's arms: one pipeline each (run with every seed), named by a stable id that
 * the study preset (`pipelines/replication.ts`) and the findings analysis both use. An arm is the
 * replication-scale baseline plus the one change a finding needs; `baseline` is shared by every
 * finding that compares against "no intervention".
 */

/** Every arm id, in the order the study runs them. */
export const armIds = [
  "baseline",
  "dff-0",
  "dff-half",
  "dff-double",
  "prune-smallest",
  "prune-random",
  "prune-largest",
  "retrain-smallest",
  "retrain-largest",
  "retrain-all",
  "weight-decay",
  "recycle-initial",
  "immunity-3",
  "immunity-7",
  "recycle-current",
  "copy-small",
  "copy-large",
  "smooth-small",
  "smooth-large",
  "midpoint-1e-7",
  "midpoint-1e-3",
  "midpoint-1"
] as const

/** An arm id. */
export type ArmId = (typeof armIds)[number]

/** The reference study's findings, F1-F11. */
export type FindingId = "F1" | "F2" | "F3" | "F4" | "F5" | "F6" | "F7" | "F8" | "F9" | "F10" | "F11"

/** The arms each finding's verdict reads (baseline included where it is the comparison). */
export const findingArms: Readonly<Record<FindingId, ReadonlyArray<ArmId>>> = {
  F1: ["baseline"],
  F2: ["dff-0", "dff-half", "baseline", "dff-double"],
  F3: ["baseline", "prune-smallest", "prune-random", "prune-largest"],
  F4: ["baseline", "retrain-largest", "retrain-smallest", "retrain-all"],
  F5: ["baseline", "weight-decay"],
  F6: ["baseline", "recycle-initial"],
  F7: ["baseline", "recycle-initial", "immunity-3", "immunity-7"],
  F8: ["baseline", "recycle-initial", "recycle-current"],
  F9: ["baseline", "copy-small", "copy-large"],
  F10: ["baseline", "smooth-small", "smooth-large"],
  F11: ["baseline", "midpoint-1e-7", "midpoint-1e-3", "midpoint-1"]
}
