/** `npm run build:kernels -w @rekindle/engine`: compiles `assembly/kernels.ts` into the committed binaries. */
import { writeFileSync } from "node:fs"
import { compile, outputs } from "./KernelBuild.ts"

for (const variant of ["plain", "shared"] as const) {
  const bytes = await compile(variant)
  writeFileSync(outputs[variant], bytes)
  console.log(`${outputs[variant]}: ${bytes.length} bytes`)
}
