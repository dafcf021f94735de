/**
 * Registers TF.js's op gradients. `@tensorflow/tfjs-core` alone registers none (the full
 * `@tensorflow/tfjs` package does, and its Node bundle is the only build whose gradient
 * registrations load under plain Node ESM: tfjs-core's own `dist/register_all_gradients.js`
 * uses extensionless imports Node cannot resolve). Import this module for its effect before
 * computing any gradient; importing it twice is harmless.
 */
import "@tensorflow/tfjs"

/** Marker so the module can be imported by name; the registration happens on import. */
export const registered = true
