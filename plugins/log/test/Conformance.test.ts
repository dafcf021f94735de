import { sinkConformance } from "@rekindle/testing"
import { log } from "../src/index.ts"

for (const [id, part] of Object.entries(log.sinks)) sinkConformance(`log/${id}`, part)
