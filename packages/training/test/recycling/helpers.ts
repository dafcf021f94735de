/** A recycling stage with the built-in defaults (magnitude-smallest, initial), for the trainer-level tests. */
import { initial } from "@rekindle/plugin-reinit"
import { magnitudeSmallest } from "@rekindle/plugin-select"
import { Stage } from "@rekindle/recycling"

/** A stage with sensible defaults (magnitude-smallest, initial, zero-moments, every 10 from 0). */
export const stage = (fields: Partial<Stage.StageFields> = {}): Stage.Stage =>
  Stage.make({ criterion: ["select/magnitude-smallest", magnitudeSmallest()], reinit: ["reinit/initial", initial()], ...fields })
