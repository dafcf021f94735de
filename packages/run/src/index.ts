/**
 * @rekindle/run: everything a run folder holds and how it is written, read and checked: folder
 * names and hashes, durable atomic writes, the manifest, the run lock, checkpoints, claiming a
 * folder for a new or resumed run, and comparing two runs' events (reproduce, compare).
 */
export * as Checkpoint from "./Checkpoint.ts"
export { type ClaimInput, ClaimedFolder } from "./ClaimedFolder.ts"
export type { TrainerState } from "./Checkpoint.ts"
export * as Determinism from "./Determinism.ts"
export * as Lock from "./Lock.ts"
export * as Manifests from "./Manifests.ts"
export * as Reserve from "./Reserve.ts"
export * as Resume from "./Resume.ts"
export * as RunFolder from "./RunFolder.ts"
export * as SavedBlas from "./SavedBlas.ts"
export { folderName, hashOf, Manifest, readManifest, writeJsonAtomic } from "./RunFolder.ts"
export type { SavedRun } from "./Resume.ts"
