/**
 * `rekindle magnitudes <model.safetensors> [--arch bert|t5|gpt2|rekindle]`: FF neuron magnitudes
 * M_i = ‖W_in[:, i]‖·‖W_out[i, :]‖ of a checkpoint on disk (a HuggingFace safetensors file the
 * user downloaded, or a rekindle checkpoint; nothing is fetched), per layer: a histogram and
 * quantiles in `magnitudes.json`, a self-contained `report.html`, and a table on stdout.
 */
import { isUserError, UserError } from "@rekindle/core/Errors"
import type { Pretrained } from "@rekindle/report"
import { archs } from "@rekindle/report/Archs"
import { Console, Effect, FileSystem, Option, Path } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import * as Lazy from "../Lazy.ts"
import { describedDefault } from "./Shared.ts"

const fmt = (x: number) => (Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(2) : x.toFixed(4))

/** The per-layer table printed to stdout. */
const table = (data: Pretrained.MagnitudesData): string => {
  const rows = [
    ["layer", "dFF", "mean", "std", "p5", "median", "p95", "near zero"],
    ...data.layers.map((l) => [
      l.label, String(l.dFF), fmt(l.histogram.mean), fmt(l.histogram.std), fmt(l.quantiles[0]!), fmt(l.quantiles[2]!), fmt(l.quantiles[4]!), String(l.nearZero)
    ])
  ]
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)))
  const line = (r: ReadonlyArray<string>) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ")
  return [line(rows[0]!), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(line)].join("\n")
}

/** The default output folder: `runs/magnitudes/<parent folder>-<file name without extension>`. */
const defaultOut = (path: Path.Path, file: string): string => {
  const abs = path.resolve(file)
  const base = path.basename(abs).replace(/\.safetensors$/i, "")
  const parent = path.basename(path.dirname(abs))
  return path.join("runs", "magnitudes", `${parent}-${base}`.replace(/[^A-Za-z0-9._=-]+/g, "_"))
}

/** The `magnitudes` command. */
export const magnitudes = Command.make(
  "magnitudes",
  {
    file: Argument.String("model.safetensors").pipe(Argument.withDescription("A safetensors checkpoint on disk (HuggingFace or rekindle)")),
    arch: Flag.Literals("arch", archs).pipe(
      Flag.withDescription("Where the FF weights are and how they are laid out (default: detected from the tensor names)"),
      Flag.optional
    ),
    bins: Flag.Int("bins").pipe(describedDefault("Histogram bins per layer", 50)),
    prefix: Flag.String("prefix").pipe(Flag.withDescription("Tensor-name prefix to use when FF weights appear under several"), Flag.optional),
    out: Flag.String("out").pipe(Flag.withDescription("Output folder (default runs/magnitudes/<folder>-<file>)"), Flag.optional)
  },
  Effect.fn("magnitudes")(function*({ file, arch, bins, prefix, out }) {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    if (bins < 1 || bins > 1000) return yield* new UserError({ message: `--bins: expected an integer in 1..1000, got ${bins}` })
    const { Pretrained, Write } = yield* Lazy.report
    // everything is read and checked before anything is written
    const data = yield* Effect.try({
      try: () =>
        Pretrained.analyze(file, {
          bins,
          ...(Option.isSome(arch) ? { arch: arch.value } : {}),
          ...(Option.isSome(prefix) ? { prefix: prefix.value } : {})
        }),
      catch: (e) => (isUserError(e) ? e : new UserError({ message: `${file}: ${e instanceof Error ? e.message : String(e)}` }))
    })
    const dir = Option.getOrElse(out, () => defaultOut(path, file))
    yield* (yield* Lazy.core).Folders.make(dir, "--out")
    yield* Write.writeAtomic(path.join(dir, "magnitudes.json"), JSON.stringify(data) + "\n")
    const html = yield* Write.writeData(dir, data)
    yield* Console.log(`${data.file}: ${data.layers.length} FF layers (${data.arch})\n\n${table(data)}\n\nmagnitudes: ${path.join(dir, "magnitudes.json")}\nreport: ${html}`)
  })
).pipe(Command.withDescription("FF neuron magnitude histograms of a safetensors checkpoint (BERT, T5, GPT-2 or rekindle), with a report"))
