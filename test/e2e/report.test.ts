/**
 * Reports end to end: a tiny two-variant study (every probe, the report and TensorBoard sinks) is
 * trained through the CLI, `rekindle report` writes the study page, and headless Chromium opens
 * the run and study pages: the plots must render (SVG present), with no console errors and no
 * network requests. Screenshots are saved in the test's temp folder (the path is printed). A run
 * whose recycling fires once is opened too: its recycling chart must show the firing as points
 * inside the plot (not one clipped dot on a degenerate axis) and count axes must be integers.
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

/** What the recycling charts of a page show: every dot's position against its SVG's size, and the axis tick labels. */
const recyclingCharts = (page: import("playwright-core").Page) =>
  page.evaluate(() => {
    // runs in the page (this package's types have no DOM lib)
    const document = (globalThis as any).document
    const all = (root: any, selector: string): Array<any> => [...root.querySelectorAll(selector)]
    const section = all(document, "section").find((s) => s.querySelector("h2")?.textContent === "Recycling")
    if (section === undefined) return []
    return all(section, "svg").filter((svg) => svg.querySelector("g[aria-label='x-axis tick label']") !== null)
      .map((svg) => {
        const frame = svg.getBoundingClientRect()
        const dots = all(svg, "g[aria-label=dot] circle").map((c) => {
          // Plot places dots with cx/cy or a transform; read the rendered centre either way
          const r = c.getBoundingClientRect()
          return { x: r.left + r.width / 2 - frame.left, y: r.top + r.height / 2 - frame.top, r: r.width / 2 }
        })
        const bars = all(svg, "g[aria-label=bar] rect").length
        const ticks = all(svg, "g[aria-label$='tick label'] text").map((t): string => t.textContent ?? "")
        const lines = all(svg, "g[aria-label=line] path").length
        return { width: frame.width as number, height: frame.height as number, dots, bars, ticks, lines }
      })
  })

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

  it.effect.skipIf(chromiumPath === undefined)("a run with a single recycling firing: the chart shows its points inside the plot, count axes are integers", () =>
    Effect.gen(function*() {
      const out = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-e2e-one-firing-"))
      const code = yield* Cli.run(["run", path.join(root, "test/e2e/fixtures/one-firing.ts"), "--out", out, "--cache", path.join(root, ".cache/rekindle")])
      expect(code).toBe(0)
      const dir = path.join(out, fs.readdirSync(out).find((d) => d.startsWith("one-firing-"))!)
      // its log lists only log/report, yet the run's record is written (sinks add, never replace)
      expect(fs.readFileSync(path.join(dir, "events.jsonl"), "utf8")).toContain(`"_tag":"RunFinished"`)
      const data = embedded(path.join(dir, "report.html"))
      expect(data.recycles.map((r: { step: number; layer: number; recycled: number }) => [r.step, r.layer, r.recycled])).toEqual([[10, 0, 6], [10, 1, 6]])
      const charts = yield* Effect.promise(async () => {
        const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-chromium-"))
        const context = await chromium.launchPersistentContext(userDataDir, {
          executablePath: chromiumPath!, headless: true,
          args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
          viewport: { width: 1240, height: 900 }
        })
        try {
          const page = await context.newPage()
          await page.goto(`file://${path.join(dir, "report.html")}`)
          await page.waitForSelector("body[data-rendered=true]", { timeout: 30_000 })
          await page.screenshot({ path: path.join(out, "one-firing.png"), fullPage: true })
          return await recyclingCharts(page)
        } finally {
          await context.close()
          fs.rmSync(userDataDir, { recursive: true, force: true })
        }
      })
      console.log(`one-firing report screenshot: ${path.join(out, "one-firing.png")}`)
      const [cumulative, ...lineage] = charts
      // one dot per layer at the firing, each wholly inside its SVG, and a line per layer drawn across the run
      expect(cumulative!.dots).toHaveLength(2)
      for (const d of cumulative!.dots) {
        expect(d.r).toBeGreaterThan(1)
        expect(d.x - d.r).toBeGreaterThanOrEqual(0)
        expect(d.x + d.r).toBeLessThanOrEqual(cumulative!.width)
        expect(d.y - d.r).toBeGreaterThanOrEqual(0)
        expect(d.y + d.r).toBeLessThanOrEqual(cumulative!.height)
      }
      // the dot sits at step 10 of 12: well right of the middle, not centred on a one-value axis
      expect(cumulative!.dots[0]!.x / cumulative!.width).toBeGreaterThan(0.6)
      expect(cumulative!.lines).toBeGreaterThanOrEqual(1)
      expect(cumulative!.ticks.length).toBeGreaterThan(2)
      for (const t of cumulative!.ticks) expect(t).toMatch(/^[0-9,]*$/)
      // the per-neuron recycle counts: one bar per integer count (0 and 1), integer tick labels only
      expect(lineage).toHaveLength(2)
      for (const h of lineage) {
        expect(h.bars).toBe(2)
        expect(h.ticks.filter((t) => !/^[0-9,]+$/.test(t))).toEqual([])
        expect(h.ticks).toEqual(expect.arrayContaining(["0", "1"]))
      }
    }).pipe(Effect.provide(NodeServices.layer)), 600_000)
})
