/** TF.js bridge: backends (wasm default, cpu, node), wasm kernel overrides, threaded wasm loading, tensor scopes. */
export {}
