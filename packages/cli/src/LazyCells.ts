/**
 * The CLI's study cells (`Cells.ts`: compiles studies, runs and collects cells), loaded when a
 * command first needs them. Its own module, not `Lazy.ts`: `Cells.ts` itself uses `Lazy.ts`.
 */
import { lazy } from "./Lazy.ts"

/** `./Cells.ts`, loaded once on first use. */
export const cells = lazy(() => import("./Cells.ts"))
