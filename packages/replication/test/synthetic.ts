/** Seeded synthetic samples for the verdict tests. */
import { Key } from "@rekindle/core"

/** n standard-normal draws (Box–Muller) from a key. */
export const normals = (seed: number, n: number): Array<number> => {
  const u = Key.uniform(Key.make(seed))
  return Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u()))
}
