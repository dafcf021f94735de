/** Pipeline spec schema, plugin registry, definePipeline, overrides, studies, compile. */
export {}
