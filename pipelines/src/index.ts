/** Typed pipeline presets (quickstart, baseline, recycling variants); also end-to-end fixtures. */
export {}
