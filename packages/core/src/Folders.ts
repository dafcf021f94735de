/**
 * Creating output folders (`--out`, `--cache`, run folders) so that a failure names its real
 * cause. Node's recursive `mkdir` reports a read-only parent as `ENOENT` and spins forever under
 * `/proc`; here the nearest existing ancestor is checked first (a pseudo-file system such as proc
 * or sysfs is refused up front) and the missing levels are made one by one, so the errno is the
 * one of the level that failed (`EROFS`, `EACCES`, `ENOTDIR`).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { Effect } from "effect"
import { isUserError, UserError } from "./Errors.ts"
import * as FileErrors from "./FileErrors.ts"

/** statfs magic numbers of kernel pseudo-file systems that hold no user files. */
const pseudoFilesystems: ReadonlyMap<number, string> = new Map([
  [0x9fa0, "proc"],
  [0x62656572, "sysfs"],
  [0x1cd1, "devpts"],
  [0x64626720, "debugfs"],
  [0x74726163, "tracefs"],
  [0x73636673, "securityfs"],
  [0x27e0eb, "cgroup"],
  [0x63677270, "cgroup2"],
  [0xcafe4a11, "bpf"],
  [0x62656570, "configfs"],
  [0x6165676c, "pstore"],
  [0xde5e81e4, "efivarfs"],
  [0x42494e4d, "binfmt_misc"]
])

/** The nearest existing ancestor of `dir` (itself when it exists). */
export const nearestExisting = (dir: string): string => {
  let at = path.resolve(dir)
  while (!fs.existsSync(at)) {
    const up = path.dirname(at)
    if (up === at) break
    at = up
  }
  return at
}

/** The name of the pseudo-file system `dir` (or its nearest existing ancestor) is on, if it is on one. */
export const pseudoFilesystemOf = (dir: string): string | undefined => {
  try {
    return pseudoFilesystems.get(Number(fs.statfsSync(nearestExisting(dir)).type))
  } catch {
    return undefined
  }
}

/**
 * Creates `dir` and its missing parents. `what` names the folder for the user (`--out`,
 * `cache`). Fails with a `UserError` naming the folder and the real cause: a pseudo-file system,
 * a read-only or forbidden parent, a file in the way.
 */
export const make = (dir: string, what: string): Effect.Effect<void, UserError> =>
  Effect.try({
    try: () => {
      const abs = path.resolve(dir)
      const base = nearestExisting(abs)
      const pseudo = pseudoFilesystemOf(base)
      if (pseudo !== undefined) {
        throw new UserError({
          message: `${what}: ${dir} is on ${base}, a ${pseudo} pseudo-file system that cannot hold files; choose a folder on a disk`
        })
      }
      const missing = path.relative(base, abs).split(path.sep).filter((p) => p !== "")
      let at = base
      for (const part of missing) {
        at = path.join(at, part)
        try {
          fs.mkdirSync(at)
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== "EEXIST" || !fs.statSync(at).isDirectory()) throw e
        }
      }
      if (!fs.statSync(abs).isDirectory()) throw Object.assign(new Error(`ENOTDIR: not a directory, '${abs}'`), { code: "ENOTDIR" })
    },
    catch: (e) => (isUserError(e) ? e : new UserError({ message: `${what}: cannot create ${dir}: ${FileErrors.describe(e)}` }))
  })
