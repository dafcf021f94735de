/**
 * How often the built-in criteria agree with the acting one: the mean Jaccard overlap of each
 * shadow criterion's choice with the real choice, over every Recycle event of a run folder.
 * `npx tsx shadow-report.ts runs/contribution-<hash>`
 */
import { Event } from "@rekindle/core"
import * as fs from "node:fs"
import * as path from "node:path"

for (const dir of process.argv.slice(2)) {
  const lines = fs.readFileSync(path.join(dir, "events.jsonl"), "utf8").trim().split("\n")
  const overlaps = new Map<string, Array<number>>()
  for (const e of lines.map(Event.decodeLine)) {
    if (e._tag !== "Recycle") continue
    for (const s of e.shadow) {
      const key = `${e.criterion} vs ${s.criterion}`
      overlaps.set(key, [...(overlaps.get(key) ?? []), s.jaccard])
    }
  }
  for (const [key, js] of overlaps) {
    const mean = js.reduce((a, b) => a + b, 0) / js.length
    console.log(`${key}: mean Jaccard ${mean.toFixed(3)} over ${js.length} events (${js.map((j) => j.toFixed(2)).join(" ")})`)
  }
}
