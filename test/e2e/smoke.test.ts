/**
 * `rekindle run <preset> --smoke` end to end on every preset in pipelines/ (every study variant,
 * one seed each), through the CLI on the real trainer: each run finishes in 10 steps with every
 * recycling stage firing, the pruning mask growing, the retraining window opening, every probe
 * reporting, an evaluation and a checkpoint along the way, and the full sinks (events.jsonl, the
 * presets' reports) written.
 */
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Cli } from "@rekindle/cli"
import { Event } from "@rekindle/core"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const root = path.resolve(import.meta.dirname, "../..")
/** Every preset but the replication study, whose 22 arms test/e2e/replicate.test.ts runs compressed through `rekindle replicate --smoke` (the same smoke compression). */
const presets = fs.readdirSync(path.join(root, "pipelines")).filter((f) => f.endsWith(".ts") && f !== "replication.ts").sort()

/** Every run folder under `dir` (a study's variants are one level further down). */
const runFolders = (dir: string): Array<string> =>
  fs.readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).flatMap((d) => {
    const full = path.join(dir, d.name)
    return fs.existsSync(path.join(full, "events.jsonl")) ? [full] : runFolders(full)
  })

describe("rekindle run --smoke on every preset", () => {
  it("covers every preset file", () => {
    expect(presets.length).toBeGreaterThanOrEqual(12)
  })

  for (const file of presets) {
    it.effect(`${file}: 10 steps, every stage, probe, evaluation and checkpoint`, () =>
      Effect.gen(function*() {
        const out = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-e2e-smoke-"))
        const code = yield* Cli.run(["run", path.join(root, "pipelines", file), "--smoke", "--out", out, "--cache", path.join(root, ".cache/rekindle")])
        expect(code).toBe(0)
        const dirs = runFolders(out)
        expect(dirs.length).toBeGreaterThan(0)
        for (const dir of dirs) {
          const pipeline = JSON.parse(fs.readFileSync(path.join(dir, "pipeline.json"), "utf8"))
          const events = Event.decodeLines(fs.readFileSync(path.join(dir, "events.jsonl"), "utf8"))
          const tags = (tag: string) => events.filter((e) => e._tag === tag)
          const where = path.relative(out, dir)
          expect(pipeline.train.steps, where).toBe(10)
          expect(events.at(-1)!._tag, where).toBe("RunFinished")
          expect(JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8")).status, where).toBe("finished")
          // an evaluation during the run and at its end; a checkpoint during the run and one on disk
          expect(tags("Eval").length, where).toBeGreaterThanOrEqual(2)
          expect(tags("Checkpoint").length, where).toBeGreaterThanOrEqual(1)
          expect(fs.readdirSync(path.join(dir, "checkpoints")).some((f) => f.endsWith(".safetensors")), where).toBe(true)
          // every recycling stage fired, the pruning mask grew, the retraining window opened
          const stages = new Set(tags("Recycle").map((e) => (e as Event.EventOf<"Recycle">).stage))
          expect([...stages].sort(), where).toEqual(pipeline.recycling.map((_: unknown, i: number) => i))
          const hooks = ((pipeline.hooks ?? []) as Array<{ use: string }>).map((h) => h.use)
          if (hooks.includes("hooks/pruning")) expect(tags("Prune").length, where).toBeGreaterThan(0)
          if (hooks.includes("hooks/retrain")) expect(tags("Retrain").length, where).toBeGreaterThan(0)
          if (hooks.includes("hooks/midpoint-loss")) expect(tags("Scalar").some((e) => (e as Event.EventOf<"Scalar">).name === "aux"), where).toBe(true)
          // every probe reported (probes run at step 0 and at the end at least)
          const probes = new Set([...tags("Histogram"), ...tags("Scalar")].map((e) => (e as Event.EventOf<"Scalar">).probe))
          for (const p of pipeline.probes as Array<{ use: string }>) expect(probes.has(p.use), `${where}: ${p.use}`).toBe(true)
          for (const s of pipeline.log as Array<{ use: string }>) {
            if (s.use === "log/report") expect(fs.existsSync(path.join(dir, "report.html")), where).toBe(true)
            if (s.use === "log/tensorboard") expect(fs.readdirSync(dir).some((f) => f.startsWith("events.out.tfevents.")), where).toBe(true)
          }
        }
        fs.rmSync(out, { recursive: true, force: true })
      }).pipe(Effect.provide(NodeServices.layer)), 600_000)
  }
})
