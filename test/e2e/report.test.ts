/**
 * Reports end to end: a tiny two-variant study (every probe, the report and TensorBoard sinks) is
 * trained through the CLI, `rekindle report` writes the study page, and headless Chromium opens
 * the run and study pages: the plots must render (SVG present), with no console errors and no
 * network requests. Screenshots are saved in the test's temp folder (the path is printed).
 * Without Debian's `chromium` the browser part is skipped with a message (.ci/run installs it).
 */
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Cli } from "@rekindle/cli"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { chromium } from "playwright-core"

const root = path.resolve(import.meta.dirname, "../..")
const chromiumPath = [process.env["CHROMIUM_PATH"], "/usr/bin/chromium", "/usr/bin/chromium-browser"].find(
  (p): p is string => p !== undefined && p !== "" && fs.existsSync(p)
)
if (chromiumPath === undefined) {
  console.warn("chromium unavailable: the report browser check is SKIPPED (install Debian's chromium, or set CHROMIUM_PATH)")
}

const embedded = (file: string) =>
  JSON.parse(/<script id="report-data" type="application\/json">(.*?)<\/script>/s.exec(fs.readFileSync(file, "utf8"))![1]!)

/** Opens a page in headless Chromium; returns what it saw. */
const inBrowser = async (files: ReadonlyArray<string>, shots: string) => {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-chromium-"))
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath!,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1240, height: 900 }
  })
  try {
    const results = []
    for (const [i, file] of files.entries()) {
      const page = await context.newPage()
      const errors: Array<string> = []
      const requests: Array<string> = []
      page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()) })
      page.on("pageerror", (e) => errors.push(String(e)))
      page.on("request", (r) => requests.push(r.url()))
      await page.goto(`file://${file}`)
      const rendered = await page.waitForSelector("body[data-rendered=true]", { timeout: 30_000 }).then(() => true, () => false)
      const svgs = await page.locator("#app svg").count()
      const sections = await page.locator("section h2").allTextContents()
      const shot = path.join(shots, `report-${i}.png`)
      await page.screenshot({ path: shot, fullPage: true })
      results.push({ rendered, svgs, sections, errors, requests, shot })
      await page.close()
    }
    return results
  } finally {
    await context.close()
    fs.rmSync(userDataDir, { recursive: true, force: true })
  }
}

/** What the first test leaves for the browser test. */
let pages: { readonly out: string; readonly run: string; readonly study: string } | undefined

describe("reports", () => {
  it.effect("a study trained through the CLI leaves run reports and TensorBoard files; rekindle report writes the study page", () =>
    Effect.gen(function*() {
      const out = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-e2e-report-"))
      const code = yield* Cli.run(["run", path.join(root, "test/e2e/fixtures/report-study.ts"), "--out", out, "--cache", path.join(root, ".cache/rekindle")])
      expect(code).toBe(0)
      const studyDir = path.join(out, "report-e2e")
      const study = JSON.parse(fs.readFileSync(path.join(studyDir, "study.json"), "utf8"))
      const runDirs: Array<string> = study.variants.map((v: { dir: string }) => path.join(studyDir, v.dir))
      expect(runDirs).toHaveLength(2)
      for (const d of runDirs) {
        // the sinks left a report and a TensorBoard event file in every run folder
        expect(fs.existsSync(path.join(d, "report.html"))).toBe(true)
        expect(fs.readdirSync(d).some((f) => f.startsWith("events.out.tfevents."))).toBe(true)
        const run = embedded(path.join(d, "report.html"))
        expect(run.status).toBe("finished")
        const steps = [...new Set(run.histograms.filter((h: { name: string }) => h.name === "magnitude").map((h: { step: number }) => h.step))]
        expect(steps).toEqual([0, 10, 20, 30])
        expect(run.recycles.length).toBe(4) // 2 layers x steps 10, 20
        expect(run.scatters).toHaveLength(2)
      }
      const sinkPage = fs.readFileSync(path.join(runDirs[0]!, "report.html"), "utf8")
      const code2 = yield* Cli.run(["report", studyDir])
      expect(code2).toBe(0)
      // rekindle report regenerates the run page from events.jsonl exactly as the sink wrote it
      expect(fs.readFileSync(path.join(runDirs[0]!, "report.html"), "utf8")).toBe(sinkPage)
      const studyData = embedded(path.join(studyDir, "report.html"))
      expect(studyData.variants.map((v: { name: string }) => v.name)).toEqual(["report-e2e-weightDecay=0", "report-e2e-weightDecay=0.1"])

      pages = { out, run: path.join(runDirs[0]!, "report.html"), study: path.join(studyDir, "report.html") }
    }).pipe(Effect.provide(NodeServices.layer)), 600_000)

  it.skipIf(chromiumPath === undefined)("the run and study pages render in headless Chromium: plots, no console errors, no network", async () => {
    if (pages === undefined) throw new Error("the study test did not produce reports")
    const seen = await inBrowser([pages.run, pages.study], pages.out)
    for (const s of seen) {
      console.log(`report screenshot: ${s.shot}`)
      expect(s.errors).toEqual([])
      expect(s.rendered).toBe(true)
      expect(s.requests.every((u) => u.startsWith("file:") || u.startsWith("data:"))).toBe(true)
    }
    const [runPage, studyPage] = seen
    expect(runPage!.svgs).toBeGreaterThan(10)
    expect(runPage!.sections).toEqual(expect.arrayContaining(["Loss", "Neuron magnitude distribution over training", "Recycling", "Magnitude vs firing rate", "Comparison", "Pipeline"]))
    expect(studyPage!.svgs).toBeGreaterThan(8)
    expect(studyPage!.sections).toEqual(expect.arrayContaining(["Comparison", "Loss curves", "Neuron magnitude distributions", "Recycling"]))
  }, 120_000)
})
