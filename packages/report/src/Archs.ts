/**
 * The architectures `rekindle magnitudes` can read, in a module of their own so the command line
 * can list them in `--help` without loading the reader.
 */

/** Architectures whose FF weights the pretrained-magnitudes reader can find. */
export const archs = ["bert", "t5", "gpt2", "rekindle"] as const
/** An architecture. */
export type Arch = (typeof archs)[number]
