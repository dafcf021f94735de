/**
 * A private PostgreSQL server for tests: initdb into a temporary folder (as user `postgres` when
 * the tests run as root, which initdb refuses), listening on a free loopback port, trust
 * authentication, stopped and removed by `stop`. Needs Debian's PostgreSQL (`.ci/run` installs it).
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"

/** Where Debian installs the server binaries (the newest version present), or undefined. */
export const binDir = (): string | undefined => {
  const root = "/usr/lib/postgresql"
  if (!fs.existsSync(root)) return undefined
  const versions = fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, "bin", "initdb"))).sort((a, b) => Number(b) - Number(a))
  return versions.length > 0 ? path.join(root, versions[0]!, "bin") : undefined
}

/** A free TCP port on 127.0.0.1. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port
      server.close(() => resolve(port))
    })
  })

/** A running test server. */
export interface Server {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  readonly url: string
  readonly port: number
  readonly dir: string
  /** Stops the server (fast shutdown) without removing its data. */
  readonly halt: () => void
  /** Starts it again on the same port and data. */
  readonly restart: () => void
  /** Stops the server and removes its folder. */
  readonly stop: () => void
  /** Runs one SQL statement with psql; the rows, one line each, fields separated by `|`. */
  readonly query: (sql: string) => Array<string>
}

const asRoot = typeof process.getuid === "function" && process.getuid() === 0

/** Runs a server binary, as `postgres` when we are root. */
const run = (bin: string, args: ReadonlyArray<string>) =>
  asRoot
    ? execFileSync("runuser", ["-u", "postgres", "--", bin, ...args], { stdio: "pipe" })
    : execFileSync(bin, args, { stdio: "pipe" })

/** Starts a private server. */
export const start = async (): Promise<Server> => {
  const bin = binDir()
  if (bin === undefined) throw new Error("PostgreSQL is not installed (apt-get install postgresql; .ci/run does it)")
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-pg-"))
  if (asRoot) {
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim())
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim())
    fs.chownSync(dir, uid, gid)
  }
  const data = path.join(dir, "data")
  run(path.join(bin, "initdb"), ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])
  const port = await freePort()
  const pgCtl = path.join(bin, "pg_ctl")
  const up = () =>
    run(pgCtl, ["-D", data, "-l", path.join(dir, "log"), "-w", "-t", "60", "-o", `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`, "start"])
  const down = () => {
    try {
      run(pgCtl, ["-D", data, "-m", "fast", "-w", "stop"])
    } catch {
      // already stopped
    }
  }
  up()
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dir,
    halt: down,
    restart: up,
    query: (q) =>
      execFileSync(path.join(bin, "psql"), ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-d", "postgres", "-AtX", "-c", q], { stdio: "pipe" })
        .toString().split("\n").filter((l) => l !== ""),
    stop: () => {
      down()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
}
