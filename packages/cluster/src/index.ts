/**
 * @rekindle/cluster: studies across machines on effect/cluster + effect/workflow with PostgreSQL.
 * The rest of rekindle sees only cell references (`Cell`), `Worker.serve`, `Submit.submit` and
 * `Submit.status`; nothing else depends on the engine, and the single-machine path never loads it.
 */
export * as Cell from "./Cell.ts"
export * as Database from "./Database.ts"
export * as Progress from "./Progress.ts"
export * as Submit from "./Submit.ts"
export * as Worker from "./Worker.ts"
