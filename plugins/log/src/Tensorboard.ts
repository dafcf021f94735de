/**
 * `log/tensorboard`: writes a real TensorBoard event file (`events.out.tfevents.<time>.<host>`) in
 * the run folder, so `tensorboard --logdir runs/` shows every run. The file is TFRecord framing —
 * uint64 length, masked CRC32C of the length, the record, masked CRC32C of the record — around
 * `tensorflow.Event` protos encoded with protobufjs (checksums from @aws-crypto/crc32c).
 *
 * What goes in: train loss / lr / tokens per second, eval loss / accuracy, the number of neurons
 * actually recycled per layer, every probe `Scalar` (tag `<probe>/<name>/layer<l>`), and every probe `Histogram`
 * as a `HistogramProto` (bucket limits = the right bin edges, sum and sum of squares from the
 * histogram's mean and population std).
 */
import { crc32c } from "@aws-crypto/crc32c"
import { Bug, type Event, Plugin, PluginError, RunLocation, type Sink, SinkError } from "@rekindle/core"
import { Effect, FileSystem, Path, Schema } from "effect"
import { hostname } from "node:os"
import protobuf from "protobufjs"

/** The subset of TensorFlow's `event.proto` and `summary.proto` written here (same field numbers). */
export const proto = `
syntax = "proto3";
package tensorflow;

message HistogramProto {
  double min = 1;
  double max = 2;
  double num = 3;
  double sum = 4;
  double sum_squares = 5;
  repeated double bucket_limit = 6 [packed = true];
  repeated double bucket = 7 [packed = true];
}

message Summary {
  message Value {
    string node_name = 7;
    string tag = 1;
    oneof value {
      float simple_value = 2;
      HistogramProto histo = 5;
    }
  }
  repeated Value value = 1;
}

message Event {
  double wall_time = 1;
  int64 step = 2;
  oneof what {
    string file_version = 3;
    Summary summary = 5;
  }
}
`

/** The parsed protobuf root (`tensorflow.Event`, `tensorflow.Summary`, `tensorflow.HistogramProto`). */
export const root = protobuf.parse(proto, { keepCase: true }).root
/** The `tensorflow.Event` message type. */
export const EventProto = root.lookupType("tensorflow.Event")

/** TensorFlow's masked CRC32C: rotate right by 15 and add a constant (mod 2^32). */
export const maskedCrc32c = (data: Uint8Array): number => {
  const crc = crc32c(data) >>> 0
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0
}

/** One TFRecord: length, masked CRC of the length, data, masked CRC of the data. */
export const frame = (data: Uint8Array): Uint8Array => {
  const out = new Uint8Array(8 + 4 + data.length + 4)
  const view = new DataView(out.buffer)
  view.setBigUint64(0, BigInt(data.length), true)
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true)
  out.set(data, 12)
  view.setUint32(12 + data.length, maskedCrc32c(data), true)
  return out
}

/** A histogram value (TensorBoard's HistogramProto). */
export interface Histo {
  readonly min: number
  readonly max: number
  readonly num: number
  readonly sum: number
  readonly sum_squares: number
  readonly bucket_limit: ReadonlyArray<number>
  readonly bucket: ReadonlyArray<number>
}

/** One summary value: a scalar or a histogram. */
export type Value = { readonly tag: string; readonly simple_value: number } | { readonly tag: string; readonly histo: Histo }

/** The encoded `Event` proto. */
export const encodeEvent = (e: { readonly wall_time: number; readonly step: number; readonly file_version?: string; readonly values?: ReadonlyArray<Value> }): Uint8Array => {
  const message: Record<string, unknown> = { wall_time: e.wall_time, step: e.step }
  if (e.file_version !== undefined) message["file_version"] = e.file_version
  if (e.values !== undefined) message["summary"] = { value: e.values }
  const err = EventProto.verify(message)
  if (err !== null) throw new Bug(`tensorboard: bad event: ${err}`)
  return EventProto.encode(EventProto.create(message)).finish()
}

/** A rekindle histogram as a TensorBoard HistogramProto. */
export const histo = (h: Event.EventOf<"Histogram">): Histo => {
  const num = h.counts.reduce((a, b) => a + b, 0)
  return {
    min: h.edges[0] ?? 0,
    max: h.edges.at(-1) ?? 0,
    num,
    sum: h.mean * num,
    sum_squares: (h.std * h.std + h.mean * h.mean) * num,
    bucket_limit: h.edges.slice(1),
    bucket: h.counts
  }
}

/**
 * The tag of a probe's scalar or histogram: `<probe>/<name>[/layer<l>]`, grouped by the probe that
 * emitted it (its id without the namespace: `magnitudes/magnitude-mean/layer0`), so TensorBoard
 * shows one section per probe instead of one per name.
 */
export const probeTag = (probe: string, name: string, layer: number | undefined): string => {
  const group = probe.slice(probe.lastIndexOf("/") + 1)
  const base = name === group || name.startsWith(`${group}/`) ? name : `${group}/${name}`
  return layer === undefined ? base : `${base}/layer${layer}`
}

/** The summary values of one rekindle event (empty for events TensorBoard has no use for). */
export const valuesOf = (e: Event.Event, options: { readonly histograms: boolean }): Array<Value> => {
  switch (e._tag) {
    case "TrainStep":
      return [
        { tag: "train/loss", simple_value: e.loss },
        { tag: "train/lr", simple_value: e.lr },
        { tag: "train/tokens_per_sec", simple_value: e.tokensPerSec }
      ]
    case "Eval":
      return [{ tag: "eval/loss", simple_value: e.loss }, { tag: "eval/accuracy", simple_value: e.accuracy }]
    case "Recycle":
      // the neurons actually recycled (threshold and Bernoulli criteria may choose fewer or more than k)
      return [{ tag: `recycle/stage${e.stage}/layer${e.layer}`, simple_value: e.indices.length }]
    case "Scalar":
      return [{ tag: probeTag(e.probe, e.name, e.layer), simple_value: e.value }]
    case "Histogram":
      return options.histograms ? [{ tag: probeTag(e.probe, e.name, e.layer), histo: histo(e) }] : []
    default:
      return []
  }
}

const wallTime = (e: Event.Event): number => {
  const t = "time" in e ? Date.parse(e.time) : Number.NaN
  return (Number.isFinite(t) ? t : Date.now()) / 1000
}

/** Options of `log/tensorboard`. */
export const TensorboardOptions = Schema.Struct({
  dir: Schema.String.pipe(
    Schema.check(Schema.makeFilter((d: string) =>
      !d.startsWith("/") && !d.split(/[/\\]/).includes("..") || "a folder inside the run folder (relative, no \"..\")")),
    Schema.annotate({ description: "Folder inside the run folder for the event file (\"\" = the run folder itself)" }),
    Schema.withDecodingDefaultKey(Effect.succeed(""))
  ),
  histograms: Schema.Boolean.pipe(
    Schema.annotate({ description: "Write probe histograms too" }),
    Schema.withDecodingDefaultKey(Effect.succeed(true))
  )
})

/** Opens the event file in the current scope and returns the sink. */
export const make = (options: { readonly dir: string; readonly histograms: boolean }) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const run = yield* RunLocation
    const dir = path.resolve(run.path, options.dir)
    yield* fs.makeDirectory(dir, { recursive: true })
    const now = Date.now() / 1000
    const name = `events.out.tfevents.${Math.floor(now)}.${hostname().replace(/[^A-Za-z0-9.-]/g, "_")}`
    const file = yield* fs.open(path.join(dir, name), { flag: "w" })
    yield* file.writeAll(frame(encodeEvent({ wall_time: now, step: 0, file_version: "brain.Event:2" })))
    const sink: Sink = {
      name: "log/tensorboard",
      required: false,
      write: (event) =>
        Effect.suspend(() => {
          const values = valuesOf(event, options)
          if (values.length === 0) return Effect.void
          const step = "step" in event ? event.step : 0
          return file.writeAll(frame(encodeEvent({ wall_time: wallTime(event), step, values })))
        }).pipe(Effect.mapError(SinkError.from("log/tensorboard"))),
      flush: file.sync.pipe(Effect.mapError(SinkError.from("log/tensorboard")))
    }
    return sink
  }).pipe(Effect.mapError((e) => new PluginError({ part: "log/tensorboard", message: e.message })))

/** The `log/tensorboard` part. */
export const part = Plugin.part<"sinks">()({
  description: "TensorBoard event file in the run folder: train/eval curves, recycling counts, probe scalars and histograms.",
  options: TensorboardOptions,
  make: (options) => make(options)
})
