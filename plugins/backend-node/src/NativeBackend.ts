/**
 * Providers for TF.js's native backends: `node` (`@tensorflow/tfjs-node`, CPU libtensorflow) and
 * `node-gpu` (`@tensorflow/tfjs-node-gpu`, CUDA libtensorflow). Both register the tfjs backend
 * named `tensorflow`. Availability is a guarded dynamic import: a missing package, or one whose
 * native binding failed to build or download, reports unavailable instead of throwing.
 */
import * as os from "node:os"
import { BackendError, type BackendInfo, type BackendProvider } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import { Effect } from "effect"

/** One native flavour: the provider name, the npm package, and its `auto` priority. */
export interface Flavour {
  readonly name: "node" | "node-gpu"
  readonly packageName: string
  readonly priority: number
}

/** `@tensorflow/tfjs-node`: priority 20 (above wasm). */
export const node: Flavour = { name: "node", packageName: "@tensorflow/tfjs-node", priority: 20 }
/** `@tensorflow/tfjs-node-gpu`: priority 30 (the highest). */
export const nodeGpu: Flavour = { name: "node-gpu", packageName: "@tensorflow/tfjs-node-gpu", priority: 30 }

/** The tfjs backend name both packages register. */
export const tfjsBackendName = "tensorflow"

/** Loads a module by name; injectable so tests can stand in for a package that is not installed. */
export type Importer = (specifier: string) => Promise<unknown>

const defaultImporter: Importer = (specifier) => import(specifier)

/** Why a native package could not be loaded, or `undefined` if it loaded. Cached per package. */
const loadErrors = new Map<string, Promise<string | undefined>>()

/** Tries to import the package once; resolves to the failure message, or `undefined` on success. */
export const tryLoad = (flavour: Flavour, importer: Importer = defaultImporter): Promise<string | undefined> => {
  const key = `${flavour.packageName}`
  const cached = importer === defaultImporter ? loadErrors.get(key) : undefined
  if (cached !== undefined) return cached
  const attempt = importer(flavour.packageName).then(
    () => (tf.engine().registryFactory[tfjsBackendName] === undefined ? `${flavour.packageName} did not register the "${tfjsBackendName}" backend` : undefined),
    (e: unknown) => (e instanceof Error ? e.message : String(e))
  )
  if (importer === defaultImporter) loadErrors.set(key, attempt)
  return attempt
}

/** How to install the flavour's package, for messages. */
export const installHint = (flavour: Flavour): string =>
  `npm install ${flavour.packageName}@4.22.0 (it downloads libtensorflow at install time)`

/** A provider for one native flavour. */
export const make = (flavour: Flavour, importer: Importer = defaultImporter): BackendProvider => ({
  name: flavour.name,
  priority: flavour.priority,
  requires: installHint(flavour),
  available: Effect.promise(() => tryLoad(flavour, importer)).pipe(Effect.map((error) => error === undefined)),
  init: () =>
    Effect.tryPromise({
      try: async (): Promise<BackendInfo> => {
        const error = await tryLoad(flavour, importer)
        if (error !== undefined) throw new BackendError({ backend: flavour.name, message: `${flavour.packageName} is not usable here: ${error}; install it with ${installHint(flavour)}` })
        if (!(await tf.setBackend(tfjsBackendName))) throw new BackendError({ backend: flavour.name, message: `tfjs could not initialise the "${tfjsBackendName}" backend` })
        // libtensorflow sizes its own thread pools (all cores by default)
        return { name: flavour.name, threads: Math.max(1, os.availableParallelism()), simd: true, overrides: false }
      },
      catch: (cause) => new BackendError({ backend: flavour.name, message: cause instanceof Error ? cause.message : String(cause) })
    })
})
