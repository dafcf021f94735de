/**
 * @rekindle/loop: the step loop. `TrainLoop` holds the parameters as TF.js Variables and runs one
 * optimizer step in a single `tf.tidy` (with the hooks' step options); `Trainer.train` runs the
 * steps with the step hooks, events, evaluation and checkpoints; `TrainConfig` is its settings.
 * It sits below `training` (which composes a run around it) so that the plugin kit can run step
 * hooks through real steps (`@rekindle/testing`'s hook suite).
 */
export * as TrainConfig from "./TrainConfig.ts"
export * as Trainer from "./Trainer.ts"
export * as TrainLoop from "./TrainLoop.ts"
