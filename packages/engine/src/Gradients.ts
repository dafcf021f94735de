/**
 * Registers TF.js's gradient functions, once per process. `@tensorflow/tfjs-core` ships them only
 * as ES modules with extension-less relative imports (`dist/register_all_gradients.js`), which
 * Node cannot load as is; the `@tensorflow/tfjs` umbrella bundles them but pulls in ~300 MB of
 * layers/converter/webgl. So this module installs a narrow resolve hook (only for relative imports
 * made from inside tfjs-core's `dist/`, adding `.js`) and imports that file. The gradient code
 * runs on the shared global engine and gradient registry. Nothing happens when gradients are
 * already registered (e.g. by `@tensorflow/tfjs` or another package).
 */
import { createRequire, registerHooks } from "node:module"
import { pathToFileURL } from "node:url"
import * as tf from "@tensorflow/tfjs-core"

/** Whether TF.js has gradient functions registered (probed with `Add`). */
export const registered = (): boolean => tf.getGradient("Add") !== undefined

const register = async (): Promise<void> => {
  if (registered()) return
  const require = createRequire(import.meta.url)
  const dist = require.resolve("@tensorflow/tfjs-core/package.json").replace(/package\.json$/, "dist/")
  const distUrl = pathToFileURL(dist).href
  registerHooks({
    resolve: (specifier, context, next) =>
      context.parentURL?.startsWith(distUrl) === true && specifier.startsWith(".") && !/\.m?js$/.test(specifier)
        ? next(`${specifier}.js`, context)
        : next(specifier, context)
  })
  await import(`${distUrl}register_all_gradients.js`)
  // an invariant (a bug if reached); a plain Error, so this side-effect module loads TF.js only
  if (!registered()) throw new Error("Gradients: tfjs-core's gradient registrations did not take effect")
}

await register()
