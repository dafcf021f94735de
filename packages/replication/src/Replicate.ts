/**
 * The replication's entry points for the `rekindle replicate` command: `analyze` reads the study's
 * run folders (one per arm and seed) and gives a verdict for every finding; `write` leaves
 * `replication.json` and the replication page in the output folder.
 */
import { Files, UserError } from "@rekindle/core"
import { Effect, FileSystem, Path } from "effect"
import type { ArmId, FindingId } from "./Arms.ts"
import type { Verdict } from "./Verdict.ts"

/** One finished run of the study: its arm, seed and run folder. */
export interface ArmRun {
  readonly arm: ArmId
  readonly seed: number
  readonly dir: string
}

/** One finding's result: the original's figures, ours, and the verdict with its rule. */
export interface FindingResult {
  readonly finding: FindingId
  /** What the reference study found, in a sentence. */
  readonly claim: string
  /** The reference study's figures, as `../shared/reference-study.md` gives them. */
  readonly original: string
  /** Our figures (means over seeds, with intervals where the rule uses them). */
  readonly ours: string
  readonly verdict: Verdict
}

/** The whole replication: a result per finding, and the runs it was computed from. */
export interface ReplicationResult {
  readonly findings: ReadonlyArray<FindingResult>
  readonly runs: ReadonlyArray<ArmRun>
}

/** Computes a verdict for every finding from the study's runs. */
export const analyze = (
  runs: ReadonlyArray<ArmRun>
): Effect.Effect<ReplicationResult, UserError, FileSystem.FileSystem | Path.Path> =>
  Effect.succeed({
    runs,
    findings: (["F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9", "F10", "F11"] as const).map((finding) => ({
      finding,
      claim: "",
      original: "",
      ours: "",
      verdict: { outcome: "inconclusive" as const, rule: "not analysed yet", reason: "placeholder" }
    }))
  })

/** Writes `replication.json` into `outDir`; returns the files written. */
export const write = (
  outDir: string,
  result: ReplicationResult
): Effect.Effect<ReadonlyArray<string>, UserError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    const file = path.join(outDir, "replication.json")
    yield* Files.writeTextAtomic(file, JSON.stringify(result, null, 2) + "\n").pipe(
      Effect.mapError((e) => new UserError({ message: `cannot write ${file}: ${String(e)}`, problems: [] }))
    )
    return [file]
  })
