/**
 * @rekindle/report: self-contained HTML reports of runs and studies, and FF magnitudes of
 * pretrained safetensors checkpoints.
 */
export {}
