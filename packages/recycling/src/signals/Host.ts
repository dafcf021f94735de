/**
 * The signal host: computes the signals that parts of a run asked for (`Signal.SignalRequest`),
 * only those, at their cadence, inside the training step itself (a `StepObserver`: the step's
 * weights, h, ∂L/∂h, ∂L/∂W and optimizer slots before its update; a forward pass of the probe
 * batch only for signals that read it). Signals reading only h and ∂L/∂h (`needs.step: "hidden"`)
 * run in the observer's tap, during the backward pass, layer by layer, so the step holds nothing
 * for them; their vectors are folded with the others once the loss was found finite. Each (consumer, name) keeps its own window on device; a
 * signal requested by several consumers with the same options is computed once per step. A
 * consumer reads its values as plain arrays (`read`), which also clears its `mean` windows. With
 * no request at all the host observes nothing and the step runs its plain path.
 */
import { Bug, type Optimizer, type Signal, SignalViews as Views, SignalWindows as Windows, type StepObservation, type StepObserver, type TapObservation as StepTap, type Topology, UserError } from "@rekindle/core"
import { Tensors } from "@rekindle/engine"
import { type BatchTensors, Forward, type ModelConfig } from "@rekindle/model"
import * as tf from "@tensorflow/tfjs-core"

/** One request of one consumer, bound to its built signal. */
export interface Bound {
  /** Who reads it: the field path of the requesting part (`recycling.0.select`). */
  readonly consumer: string
  /** The name the consumer reads it under (`LayerSignals.values[name]`). */
  readonly name: string
  /** The signal part's id (`signal/taylor`). */
  readonly id: string
  /** The signal part's id with its decoded options (`signal/taylor {}`): equal keys share one computation per step. */
  readonly key: string
  readonly signal: Signal.Signal
  readonly window: Signal.Window
  readonly every: number
}

/** The host's state as JSON (for checkpoints). */
export interface HostSnapshot {
  readonly version: 1
  readonly windows: ReadonlyArray<{ readonly consumer: string; readonly name: string; readonly key: string; readonly state: Windows.AccumulatorJson }>
}

/** How to build a host. */
export interface HostOptions {
  readonly topology: Topology.Topology
  /** The model's config (for the probe batch's forward pass). */
  readonly config: ModelConfig
  readonly bound: ReadonlyArray<Bound>
  /** The run's probe batch (needed when a bound signal reads it). */
  readonly probe?: BatchTensors
}

/** The signal host (see the module comment). */
export interface Host {
  readonly bound: ReadonlyArray<Bound>
  /** The observer for step s, or undefined when no signal is due at s. */
  readonly observer: (step: number) => StepObserver | undefined
  /** A consumer's values per FF layer by name (zeros before the first observation); clears its `mean` windows. */
  readonly read: (consumer: string) => Array<Record<string, Float32Array>>
  /** Whether a consumer asked for anything. */
  readonly has: (consumer: string) => boolean
  readonly snapshot: () => HostSnapshot
  /** Replaces every window with a snapshot's (the bound requests must be the same). */
  readonly restore: (snapshot: HostSnapshot) => void
  readonly dispose: () => void
}

/** Builds a host. */
export const make = (options: HostOptions): Host => {
  const { topology, bound } = options
  const widths = topology.layers.map((l) => l.dFF)
  let windows: Array<Windows.Accumulator> = bound.map(() => Windows.empty)
  if (bound.some((b) => b.signal.needs.probe === true) && options.probe === undefined) {
    throw new Bug(`signals: ${bound.find((b) => b.signal.needs.probe === true)!.id} reads the probe batch, but the run has none`)
  }

  const probeHidden = (params: StepObservation["params"]): Array<tf.Tensor2D | undefined> => {
    const out: Array<tf.Tensor2D | undefined> = topology.layers.map(() => undefined)
    Forward.hiddenStates(options.config, params, options.probe!, undefined, (l, h) => {
      out[l] = h
    })
    return out
  }

  /**
   * Per signal key computed in the tap of the step in progress (`needs.step: "hidden"`), its kept
   * `[dFF]` vector per layer; folded and disposed by `observe`, or by the next step's observer
   * (or `dispose`) when the step threw before `observe` (a non-finite loss).
   */
  let tapped = new Map<string, Array<tf.Tensor1D | undefined>>()
  const dropTapped = () => {
    for (const xs of tapped.values()) tf.dispose(xs.filter((t): t is tf.Tensor1D => t !== undefined))
    tapped = new Map()
  }

  /** Computes the due `"hidden"` signals of one layer inside the backward pass (one per distinct key). */
  const tap = (inTap: ReadonlyArray<number>) => (t: StepTap): void => {
    const layer = topology.layers[t.ffLayer]!
    for (const i of inTap) {
      const b = bound[i]!
      let xs = tapped.get(b.key)
      if (xs === undefined) {
        xs = topology.layers.map(() => undefined)
        tapped.set(b.key, xs)
      }
      if (xs[t.ffLayer] !== undefined) continue
      xs[t.ffLayer] = tf.keep(tf.tidy(() => {
        const view = Views.viewOf(layer, t.ffLayer, { params: t.params, ...(b.signal.needs.optimizer === true ? { slots: t.opt.slots } : {}) })
        return b.signal.compute({ ...view, hidden: t.hidden, hiddenGrad: t.hiddenGrad })
      }))
    }
  }

  /** Folds one observation into every due window (inside the step's tidy; keeps what it stores). */
  const observe = (due: ReadonlyArray<number>) => (o: StepObservation): void => {
    const stepCapture: Views.Capture = {
      params: o.params,
      grads: o.grads,
      hidden: o.hidden,
      hiddenGrad: o.hiddenGrad,
      slots: o.opt.slots
    }
    let stepViews: Array<Signal.LayerView> | undefined
    let probeViews: Array<Signal.LayerView> | undefined
    const computed = new Map<string, Array<tf.Tensor1D>>()
    for (const i of due) {
      const b = bound[i]!
      let x = computed.get(b.key)
      const fromTap = tapped.get(b.key)
      if (x === undefined && fromTap !== undefined) {
        // a layer the backward pass did not reach (not upstream of a trained parameter) has no h:
        // its view says so, as in a step that held them
        stepViews ??= Views.viewsOf(topology, stepCapture)
        x = fromTap.map((t, p) => t ?? b.signal.compute(stepViews![p]!))
        computed.set(b.key, x)
      }
      if (x === undefined) {
        let views: Array<Signal.LayerView>
        if (b.signal.needs.probe === true) {
          probeViews ??= Views.viewsOf(topology, { params: o.params, hidden: probeHidden(o.params), slots: o.opt.slots })
          views = probeViews
        } else {
          stepViews ??= Views.viewsOf(topology, stepCapture)
          views = stepViews
        }
        x = views.map((v) => b.signal.compute(v))
        computed.set(b.key, x)
      }
      const before = windows[i]!
      // a copy per window (shared data): windows never hold the same tensor object
      const next = Windows.fold(b.window, before, x.map((t) => tf.clone(t)))
      for (const t of next.values ?? []) tf.keep(t)
      if (next.values !== before.values) Windows.dispose(before)
      windows[i] = next
    }
    dropTapped()
  }

  const dueAt = (step: number): Array<number> => bound.flatMap((b, i) => (step % b.every === 0 ? [i] : []))

  return {
    bound,
    observer: (step) => {
      dropTapped()
      const due = dueAt(step)
      if (due.length === 0) return undefined
      // h / ∂L/∂h held to the step's end only for `step: true`; `"hidden"` signals run in the tap
      // and hold nothing; `"gradients"` reads the step's ∂L/∂W alone (no tap)
      const inTap = due.filter((i) => bound[i]!.signal.needs.step === "hidden" && bound[i]!.signal.needs.probe !== true)
      return {
        hidden: due.some((i) => bound[i]!.signal.needs.step === true),
        ...(inTap.length > 0 ? { tap: tap(inTap) } : {}),
        observe: observe(due)
      }
    },
    has: (consumer) => bound.some((b) => b.consumer === consumer),
    read: (consumer) => {
      const out: Array<Record<string, Float32Array>> = widths.map(() => ({}))
      bound.forEach((b, i) => {
        if (b.consumer !== consumer) return
        const values = Tensors.tidyValue(() => Windows.read(b.window, windows[i]!, widths).map((t) => Float32Array.from(t.dataSync())))
        values.forEach((v, p) => {
          out[p]![b.name] = v
        })
        if (Windows.clearsOnRead(b.window)) {
          Windows.dispose(windows[i]!)
          windows[i] = Windows.empty
        }
      })
      return out
    },
    snapshot: () => ({
      version: 1,
      windows: bound.map((b, i) => ({ consumer: b.consumer, name: b.name, key: b.key, state: Windows.toJson(windows[i]!) }))
    }),
    restore: (snapshot) => {
      if (snapshot.version !== 1) throw new UserError({ message: `signals restore: unknown snapshot version ${String(snapshot.version)}` })
      const same = snapshot.windows.length === bound.length &&
        snapshot.windows.every((w, i) => w.consumer === bound[i]!.consumer && w.name === bound[i]!.name && w.key === bound[i]!.key)
      if (!same) {
        const list = (xs: ReadonlyArray<{ consumer: string; name: string; key: string }>) => xs.map((w) => `${w.consumer}:${w.name}=${w.key}`).join(", ")
        throw new UserError({ message: `signals restore: the checkpoint's signals (${list(snapshot.windows)}) are not the run's (${list(bound)})` })
      }
      for (const w of windows) Windows.dispose(w)
      windows = snapshot.windows.map((w) => Windows.fromJson(w.state))
    },
    dispose: () => {
      dropTapped()
      for (const w of windows) Windows.dispose(w)
      windows = bound.map(() => Windows.empty)
    }
  }
}

/** Why a bound signal cannot run (optimizer slots, probe batch, layers), or undefined. */
export const checkBound = (b: Bound, context: Signal.SignalContext): string | undefined => b.signal.check?.(context)

/** The check context of a run. */
export const contextOf = (topology: Topology.Topology, optimizer: Optimizer.Optimizer, probe: boolean): Signal.SignalContext => ({
  layers: topology.layers,
  slots: optimizer.slots,
  probe
})
