/**
 * The run-folder lock: one owner at a time, a live owner named in the refusal, stale locks (a
 * dead pid, a reused pid, an unreadable file left by a killed writer) taken over, release on
 * scope close.
 */
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { spawn, spawnSync } from "node:child_process"
import { Effect, Exit } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as Lock from "../src/Lock.ts"

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-lock-"))
const lockFile = (dir: string) => path.join(dir, Lock.fileName)
const writeLock = (dir: string, info: Partial<Lock.LockInfo>) =>
  fs.writeFileSync(lockFile(dir), JSON.stringify({ host: os.hostname(), startedAt: "2026-01-01T00:00:00Z", ...info }))

/** A pid that no longer names a process (a child that has exited and been reaped). */
const deadPid = () => spawnSync(process.execPath, ["-e", ""]).pid!

describe("run-folder lock", () => {
  it.effect("a second acquire is refused while the first holds it; release on scope close frees it", () =>
    Effect.gen(function*() {
      const dir = tmp()
      yield* Effect.scoped(Effect.gen(function*() {
        const lock = yield* Lock.acquire(dir, "test")
        expect(lock.info.pid).toBe(process.pid)
        expect(JSON.parse(fs.readFileSync(lockFile(dir), "utf8")).pid).toBe(process.pid)
        const second = yield* Effect.exit(Effect.scoped(Lock.acquire(dir)))
        expect(Exit.isFailure(second)).toBe(true)
        expect(String(Exit.isFailure(second) ? second.cause : "")).toContain("is in use: locked by this process")
      }))
      expect(fs.existsSync(lockFile(dir))).toBe(false)
      expect((yield* Lock.inspect(dir))._tag).toBe("Free")
    }).pipe(Effect.provide(NodeServices.layer)))

  it.effect("a live owner is named in the refusal; once it is gone its lock is stale and taken over", () =>
    Effect.gen(function*() {
      const dir = tmp()
      const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" })
      const pid = child.pid!
      writeLock(dir, { pid, ...(Lock.procStart(pid) !== undefined ? { procStart: Lock.procStart(pid)! } : {}) })
      const held = yield* Lock.inspect(dir)
      expect(held._tag).toBe("Held")
      const refused = yield* Effect.exit(Effect.scoped(Lock.acquire(dir)))
      expect(String(Exit.isFailure(refused) ? refused.cause : "")).toContain(`process ${pid} is running`)
      yield* Effect.promise(() => new Promise<void>((resolve) => {
        child.on("exit", () => resolve())
        child.kill("SIGKILL")
      }))
      const stale = yield* Lock.inspect(dir)
      expect(stale._tag).toBe("Stale")
      yield* Effect.scoped(Effect.gen(function*() {
        const lock = yield* Lock.acquire(dir)
        expect(lock.info.pid).toBe(process.pid)
      }))
      expect(fs.existsSync(lockFile(dir))).toBe(false)
    }).pipe(Effect.provide(NodeServices.layer)))

  it.effect("a dead pid, a reused pid and an old unreadable lock file are stale; a fresh unreadable one is held", () =>
    Effect.gen(function*() {
      const dir = tmp()
      writeLock(dir, { pid: deadPid() })
      expect((yield* Lock.inspect(dir))._tag).toBe("Stale")
      if (Lock.procStart(process.pid) !== undefined) {
        // this process's pid with another start time: the pid was reused
        writeLock(dir, { pid: process.pid, procStart: "1" })
        const s = yield* Lock.inspect(dir)
        expect(s._tag).toBe("Stale")
        expect(s._tag === "Stale" ? s.why : "").toContain("another process")
      }
      fs.writeFileSync(lockFile(dir), "{\"pid\":")
      expect((yield* Lock.inspect(dir))._tag).toBe("Held")
      const old = new Date(Date.now() - 60_000)
      fs.utimesSync(lockFile(dir), old, old)
      expect((yield* Lock.inspect(dir))._tag).toBe("Stale")
      writeLock(dir, { pid: 1, host: "elsewhere" })
      const foreign = yield* Lock.inspect(dir)
      expect(foreign._tag === "Held" ? foreign.why : "").toContain("on host elsewhere")
    }).pipe(Effect.provide(NodeServices.layer)))
})
