import { reinitConformance } from "@rekindle/testing"
import { copy, reinit } from "../src/index.ts"

for (const [id, part] of Object.entries(reinit.reinitializers)) reinitConformance(`reinit/${id}`, part)

reinitConformance("reinit/copy (no noise)", reinit.reinitializers.copy, { options: { noise: 0 } })
reinitConformance("copy() factory, loud noise", () => copy({ noise: 1 }))
