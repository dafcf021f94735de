/** Optimizers (SGD, Adam, AdamW) as Optax-style init/update pairs with named slots, LR schedules, clipping. */
export {}
