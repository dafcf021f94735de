import { signalConformance } from "@rekindle/testing"
import { signal } from "../src/index.ts"

for (const [id, part] of Object.entries(signal.signals)) signalConformance(`signal/${id}`, part)

signalConformance("signal/mean-abs (source step)", signal.signals["mean-abs"], { options: { source: "step" } })
signalConformance("signal/activation-variance (source probe)", signal.signals["activation-variance"], { options: { source: "probe" } })
