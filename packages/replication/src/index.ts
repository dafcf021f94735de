/**
 * @rekindle/replication: the reference study's findings as stated verdict rules over a study's
 * runs (bimodality of magnitudes, paired loss orderings with Student-t intervals over seeds, re-selection and
 * distinct-neuron counts), and the replication's result file and page (`Replicate.analyze`,
 * `Replicate.write`).
 */
export * as Arms from "./Arms.ts"
export * as Bimodality from "./Bimodality.ts"
export * as Findings from "./Findings.ts"
export * as Measures from "./Measures.ts"
export * as Paired from "./Paired.ts"
export * as Replicate from "./Replicate.ts"
export * as Reselection from "./Reselection.ts"
export * as Student from "./Student.ts"
export * as Verdict from "./Verdict.ts"
