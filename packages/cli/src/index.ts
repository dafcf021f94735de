/** The rekindle command line: run, validate, plan, schema, plugins, bench. */
export {}
