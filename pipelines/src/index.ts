/** Typed pipeline presets (quickstart, baseline); also end-to-end fixtures. */
export { default as baseline } from "../baseline.ts"
export { default as quickstart } from "../quickstart.ts"
