/**
 * A real second copy of `effect`, for testing code that must refuse values built by another copy
 * (registries, option decoding): the package's files hard-linked (`cp -al`, nothing copied) into a
 * temporary `node_modules`, and imported from there.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

/** The second copy's module and how to remove it. */
export interface OtherEffect {
  readonly effect: typeof import("effect")
  /** The folder of the copy (`.../node_modules/effect`). */
  readonly dir: string
  readonly dispose: () => void
}

/** Links a second copy of the `effect` this package resolves and imports it. */
export const otherEffect = async (): Promise<OtherEffect> => {
  const entry = fileURLToPath(import.meta.resolve("effect"))
  const source = entry.slice(0, entry.lastIndexOf(`${path.sep}node_modules${path.sep}effect${path.sep}`)) + `${path.sep}node_modules${path.sep}effect`
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-effect-copy-"))
  const dir = path.join(tmp, "node_modules", "effect")
  fs.mkdirSync(path.dirname(dir), { recursive: true })
  execFileSync("cp", ["-al", source, dir])
  const effect = await import(pathToFileURL(path.join(dir, path.relative(source, entry))).href) as typeof import("effect")
  return { effect, dir, dispose: () => fs.rmSync(tmp, { recursive: true, force: true }) }
}
