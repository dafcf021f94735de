/**
 * The effect/cluster stack on PostgreSQL: shard locks, entity messages, workflow state and the
 * cell queue all live in the database. A worker is a full runner (hosts study workflows and
 * drains the queue) reachable by the others on `host:port`; a submitter is a client only.
 */
import { NodeClusterSocket } from "@effect/platform-node"
import { Layer, Option } from "effect"
import { ClusterWorkflowEngine, RunnerAddress } from "effect/cluster"
import { PersistedQueue } from "effect/persistence"
import * as Database from "./Database.ts"

/**
 * Lease timings: a dead worker's shards and queue items are taken over after about 12 s and
 * 10 s; live ones refresh their leases every few seconds (the training runs in a child process,
 * so the worker's event loop is free to do so).
 */
const shardingConfig = {
  shardLockExpiration: "12 seconds",
  shardLockRefreshInterval: "3 seconds",
  entityMessagePollInterval: "1 second",
  entityReplyPollInterval: "1 second",
  refreshAssignmentsInterval: "2 seconds"
} as const

/** The durable queue's store: leases of 10 s, refreshed every 2 s, polled every 300 ms. */
const queue = PersistedQueue.layer.pipe(
  Layer.provide(PersistedQueue.layerStoreSql({ lockExpiration: "10 seconds", lockRefreshInterval: "2 seconds", pollInterval: "300 millis" }))
)

/** Where a worker listens (`0.0.0.0:port`) and how the others reach it (`host:port`). */
export interface RunnerOptions {
  readonly host: string
  readonly port: number
}

/** A runner's cluster stack: workflow engine, queue, sharding over sockets, Postgres. */
export const runner = (db: string, options: RunnerOptions) =>
  ClusterWorkflowEngine.layer.pipe(
    Layer.provideMerge(queue),
    Layer.provideMerge(NodeClusterSocket.layer({
      storage: "sql",
      shardingConfig: {
        ...shardingConfig,
        runnerAddress: Option.some(RunnerAddress.make(options.host, options.port)),
        runnerListenAddress: Option.some(RunnerAddress.make("0.0.0.0", options.port))
      }
    })),
    Layer.provideMerge(Database.layer(db))
  )

/** A client's cluster stack (submits and polls workflows, owns no shards). */
export const client = (db: string) =>
  ClusterWorkflowEngine.layer.pipe(
    Layer.provideMerge(NodeClusterSocket.layer({ storage: "sql", clientOnly: true, shardingConfig })),
    Layer.provideMerge(Database.layer(db))
  )
