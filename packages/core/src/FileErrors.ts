/**
 * File-system failures in words. Effect's platform errors say `NotFound: FileSystem.makeDirectory`
 * and hide the errno; these read the Node error underneath (`EROFS`, `ENOSPC`, ...) and say it
 * plainly, for every writer of every package (run folders, the data cache, reports).
 */
import { Cause } from "effect"

/** The Node errno code behind a file-system failure (`ENOSPC`, `EACCES`, ...), if any. */
export const errnoOf = (e: unknown): string | undefined => {
  const cause = (e as { reason?: { cause?: unknown } } | undefined)?.reason?.cause ?? (e as { cause?: unknown } | undefined)?.cause
  const code = (cause as { code?: unknown } | undefined)?.code ?? (e as { code?: unknown } | undefined)?.code
  return typeof code === "string" ? code : undefined
}

const hints: Readonly<Record<string, string>> = {
  ENOSPC: "the disk is full",
  EDQUOT: "the disk quota is exhausted",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "the file system is read-only",
  ENOTDIR: "a parent path is a file, not a folder",
  EISDIR: "the path is a folder",
  ENOENT: "no such file or folder",
  EEXIST: "it already exists"
}

/** A readable description of a file-system failure: `the disk is full (ENOSPC: no space left on device, write)`. */
export const describe = (e: unknown): string => {
  const code = errnoOf(e)
  const cause = (e as { reason?: { cause?: unknown } } | undefined)?.reason?.cause
  const message = cause instanceof Error ? cause.message : e instanceof Error ? e.message : String(e)
  if (code === undefined) return message
  const hint = hints[code]
  return hint === undefined ? message : `${hint} (${message})`
}

/** {@link describe} for the (first) failure of a `Cause`: one line, no `Cause([Fail(...` dump. */
export const describeCause = (cause: Cause.Cause<unknown>): string => describe(Cause.squash(cause))
