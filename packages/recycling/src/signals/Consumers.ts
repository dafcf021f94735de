/**
 * Who reads a signal: every requesting part is named by the field path of its ref in the pipeline,
 * so compile-time binding, the run's readers and `validate`'s messages agree on one name.
 */

/** The consumer name of a recycling stage's acting criterion (shadow −1) or of its shadow j. */
export const consumerOf = (stage: number, shadow: number): string =>
  shadow < 0 ? `recycling.${stage}.select` : `recycling.${stage}.shadow.${shadow}`

/** The consumer name of the pipeline's hook i. */
export const hookConsumer = (i: number): string => `hooks.${i}`

/** The consumer name of probe i. */
export const probeConsumer = (i: number): string => `probes.${i}`
