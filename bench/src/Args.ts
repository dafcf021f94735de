/**
 * Command-line flags of the bench scripts.
 */

/** The value after `--name` in `argv`; undefined when the flag is absent or followed by another flag. */
export const flag = (argv: ReadonlyArray<string>, name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`)
  const value = i >= 0 ? argv[i + 1] : undefined
  return value !== undefined && !value.startsWith("--") ? value : undefined
}

/** The value of `--name` on this process's command line, or `fallback`. */
export const arg = (name: string, fallback: string): string => flag(process.argv, name) ?? fallback
