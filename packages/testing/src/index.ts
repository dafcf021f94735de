/** Plugin authoring kit: conformance suites and tiny-model fixtures. */
export * from "./CriterionSuite.ts"
export * from "./Fixtures.ts"
export * from "./OptimizerSuite.ts"
export * from "./ReinitSuite.ts"
export * from "./SinkSuite.ts"
export * from "./SignalSuite.ts"
export * from "./Options.ts"
export * from "./OtherEffect.ts"
