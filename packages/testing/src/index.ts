/** Plugin authoring kit: conformance suites and tiny-model fixtures. */
export * from "./OptimizerSuite.ts"
