/** Trainer, Experiment, run folders, events: the place that knows the order of things. */
export {}
