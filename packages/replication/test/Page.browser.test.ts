/**
 * The replication page in headless Chromium: every finding's section shows its verdict and rule,
 * the page script draws each section's charts (SVG present), with no console errors and no network
 * requests. Without Debian's `chromium` the check is skipped with a message.
 */
import { NodeServices } from "@effect/platform-node"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { chromium } from "playwright-core"
import { afterAll, describe, expect, it } from "vitest"
import { Replicate } from "../src/index.ts"
import { likeTheStudy, writeStudy } from "./studyFixture.ts"

const chromiumPath = [process.env["CHROMIUM_PATH"], "/usr/bin/chromium", "/usr/bin/chromium-browser"].find(
  (p): p is string => p !== undefined && p !== "" && fs.existsSync(p)
)
if (chromiumPath === undefined) console.warn("chromium unavailable: the replication page browser check is SKIPPED (install Debian's chromium, or set CHROMIUM_PATH)")

const root = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-replication-page-"))
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

describe.skipIf(chromiumPath === undefined)("replication page in a browser", () => {
  it("shows each finding's verdict and rule and draws its charts", async () => {
    const result = await Effect.runPromise(
      Effect.provide(Effect.flatMap(Replicate.analyze(writeStudy(path.join(root, "runs"), likeTheStudy)), (r) => Effect.as(Replicate.write(root, r), r)), NodeServices.layer)
    )
    const browser = await chromium.launch({ executablePath: chromiumPath!, headless: true, args: ["--no-sandbox", "--disable-gpu"] })
    try {
      const page = await browser.newPage({ viewport: { width: 1240, height: 900 } })
      const errors: Array<string> = []
      const requests: Array<string> = []
      page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()) })
      page.on("pageerror", (e) => errors.push(String(e)))
      page.on("request", (r) => requests.push(r.url()))
      await page.goto(`file://${path.join(root, Replicate.htmlFile)}`)
      await page.waitForSelector("body[data-rendered=true]", { timeout: 30_000 })
      const sections = await page.locator("section[data-finding]").evaluateAll((nodes) =>
        nodes.map((n) => ({
          id: n.getAttribute("data-finding"),
          verdict: n.querySelector("h2 .verdict")?.textContent,
          rule: n.querySelector("p.rule")?.textContent,
          svgs: n.querySelectorAll("[data-charts] svg").length
        }))
      )
      expect(sections.map((s) => s.id)).toEqual(result.findings.map((f) => f.finding))
      for (const [i, s] of sections.entries()) {
        const f = result.findings[i]!
        expect(s.verdict, s.id!).toBe(f.verdict.outcome)
        expect(s.rule, s.id!).toBe(`Rule (fixed before the runs): ${f.verdict.rule}`)
        expect(s.svgs, s.id!).toBeGreaterThan(0)
      }
      expect(errors).toEqual([])
      expect(requests.filter((u) => !u.startsWith("file://"))).toEqual([])
    } finally {
      await browser.close()
    }
  })
})
