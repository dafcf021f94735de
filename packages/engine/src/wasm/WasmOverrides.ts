/**
 * Installs rekindle's kernel overrides on the tfjs wasm backend with `tf.registerKernel`:
 * BatchMatMul, Transpose, Slice, SplitV, Sum (leading axes), GatherV2 (axis 0), Identity and same-dtype
 * Cast (no copy) replace the stock
 * kernels (the stock ones are kept and called for the cases the overrides do not handle);
 * UnsortedSegmentSum, the fused optimizer kernel `RekindleAdam` and the fused LayerNorm pair
 * `RekindleLayerNorm`/`RekindleLayerNormGrad` are added.
 * Idempotent; {@link uninstall} restores the stock kernels (benchmarks compare both).
 *
 * Never write into a tensor's heap memory in place: the BatchMatMul path caches XNNPACK operators
 * with packed weights keyed by tensor id, so an in-place edit would be silently ignored.
 */
import * as tf from "@tensorflow/tfjs-core"
import * as AdamKernel from "./AdamKernel.ts"
import * as BatchMatMulKernel from "./BatchMatMulKernel.ts"
import * as CastKernel from "./CastKernel.ts"
import * as GatherKernel from "./GatherKernel.ts"
import * as IdentityKernel from "./IdentityKernel.ts"
import * as LayerNormKernel from "./LayerNormKernel.ts"
import * as SliceKernel from "./SliceKernel.ts"
import * as SplitKernel from "./SplitKernel.ts"
import * as SumKernel from "./SumKernel.ts"
import * as TransposeKernel from "./TransposeKernel.ts"
import * as UnsortedSegmentSumKernel from "./UnsortedSegmentSumKernel.ts"

/** Which overrides to install (all `true` by default). */
export interface OverrideOptions {
  readonly batchMatMul?: boolean
  readonly transpose?: boolean
  readonly slice?: boolean
  /** SplitV as heap slices (needs `slice`). */
  readonly split?: boolean
  readonly sum?: boolean
  readonly unsortedSegmentSum?: boolean
  /** Identity shares the data id (refcount) instead of copying. */
  readonly identity?: boolean
  /** Cast to the same dtype shares the data id instead of copying. */
  readonly cast?: boolean
  /** GatherV2 along axis 0 as heap row copies. */
  readonly gather?: boolean
  /** Register the fused LayerNorm kernels `RekindleLayerNorm` and `RekindleLayerNormGrad`. */
  readonly layerNorm?: boolean
  /** Register the fused Adam kernel `RekindleAdam`. */
  readonly adam?: boolean
  /** BatchMatMul: loop over batch slices on the fast path (attention). */
  readonly batchedLoop?: boolean
  /** BatchMatMul: allow the cost-model swap for 2-D TN/NT products. */
  readonly swap?: boolean
  /** BatchMatMul: batched loop on aliases of operand/output memory (no per-slice copies). */
  readonly aliasSlices?: boolean
  /** BatchMatMul: batched products with slices of at most this many FLOPs are "small" (0 = none). */
  readonly sequentialMaxFlops?: number
  /** BatchMatMul: where small batched products run: `adaptive` (default: timed), `sequential`, `pool`. */
  readonly smallProducts?: BatchMatMulKernel.SmallProducts
  /** Transpose: elements per 2-D slice from which the blocked JS path runs (tests lower it). */
  readonly transposeBlockedMinElements?: number
}

/** The kernels an install replaced or added, for {@link uninstall}. */
interface Installed {
  readonly replaced: ReadonlyArray<tf.KernelConfig>
  readonly added: ReadonlyArray<string>
}

const backendName = "wasm"
const stateKey = Symbol.for("rekindle/engine/wasm-overrides")
type GlobalWithState = typeof globalThis & { [stateKey]?: Installed }

/** Whether overrides are installed now. */
export const isInstalled = (): boolean => (globalThis as GlobalWithState)[stateKey] !== undefined

const stockKernel = (name: string): tf.KernelConfig => {
  const k = tf.getKernel(name, backendName)
  if (k === undefined) throw new Error(`stock wasm kernel ${name} is not registered (import @tensorflow/tfjs-backend-wasm first)`)
  return k
}

const replace = (stock: tf.KernelConfig, kernelFunc: tf.KernelFunc): void => {
  tf.unregisterKernel(stock.kernelName, backendName)
  tf.registerKernel({
    kernelName: stock.kernelName,
    backendName,
    kernelFunc,
    // the stock setup (cwrap of the C++ entry point) still has to run whenever tfjs sets up kernels
    ...(stock.setupFunc === undefined ? {} : { setupFunc: stock.setupFunc }),
    ...(stock.disposeFunc === undefined ? {} : { disposeFunc: stock.disposeFunc })
  })
}

/**
 * Installs the overrides (no-op when already installed). Needs the wasm kernels registered, i.e.
 * `@tensorflow/tfjs-backend-wasm` imported; works before or after the backend is initialised.
 */
export const install = (options: OverrideOptions = {}): void => {
  const g = globalThis as GlobalWithState
  if (g[stateKey] !== undefined) return
  const on = (k: keyof OverrideOptions): boolean => options[k] !== false
  const replaced: Array<tf.KernelConfig> = []
  const added: Array<string> = []
  const stockTranspose = stockKernel(tf.Transpose)
  const minElements = options.transposeBlockedMinElements ?? TransposeKernel.blockedMinElements
  if (on("transpose")) {
    replace(stockTranspose, TransposeKernel.make(stockTranspose.kernelFunc, minElements))
    replaced.push(stockTranspose)
  }
  if (on("batchMatMul")) {
    const stock = stockKernel(tf.BatchMatMul)
    const transpose = TransposeKernel.dispatching(stockTranspose.kernelFunc, minElements)
    replace(stock, BatchMatMulKernel.make(stock.kernelFunc, transpose, { batchedLoop: on("batchedLoop"), swap: on("swap"), aliasSlices: on("aliasSlices"), ...(options.sequentialMaxFlops === undefined ? {} : { sequentialMaxFlops: options.sequentialMaxFlops }), ...(options.smallProducts === undefined ? {} : { smallProducts: options.smallProducts }) }))
    replaced.push(stock)
  }
  if (on("slice")) {
    const stock = stockKernel(tf.Slice)
    const slice = SliceKernel.make(stock.kernelFunc)
    replace(stock, slice)
    replaced.push(stock)
    if (on("split")) {
      const stockSplit = stockKernel(tf.SplitV)
      replace(stockSplit, SplitKernel.make(slice))
      replaced.push(stockSplit)
    }
  }
  if (on("sum")) {
    const stock = stockKernel(tf.Sum)
    replace(stock, SumKernel.make(stock.kernelFunc))
    replaced.push(stock)
  }
  if (on("unsortedSegmentSum") && tf.getKernel(tf.UnsortedSegmentSum, backendName) === undefined) {
    tf.registerKernel({ kernelName: tf.UnsortedSegmentSum, backendName, kernelFunc: UnsortedSegmentSumKernel.kernel })
    added.push(tf.UnsortedSegmentSum)
  }
  if (on("identity")) {
    const stock = stockKernel(tf.Identity)
    replace(stock, IdentityKernel.make(stock.kernelFunc))
    replaced.push(stock)
  }
  if (on("cast")) {
    const stock = stockKernel(tf.Cast)
    replace(stock, CastKernel.make(stock.kernelFunc))
    replaced.push(stock)
  }
  if (on("gather")) {
    const stock = stockKernel(tf.GatherV2)
    replace(stock, GatherKernel.make(stock.kernelFunc))
    replaced.push(stock)
  }
  if (on("layerNorm") && tf.getKernel(LayerNormKernel.forwardName, backendName) === undefined) {
    tf.registerKernel({ kernelName: LayerNormKernel.forwardName, backendName, kernelFunc: LayerNormKernel.forward })
    tf.registerKernel({ kernelName: LayerNormKernel.gradName, backendName, kernelFunc: LayerNormKernel.grad })
    added.push(LayerNormKernel.forwardName, LayerNormKernel.gradName)
  }
  if (on("adam") && tf.getKernel(AdamKernel.kernelName, backendName) === undefined) {
    tf.registerKernel({ kernelName: AdamKernel.kernelName, backendName, kernelFunc: AdamKernel.kernel })
    added.push(AdamKernel.kernelName)
  }
  g[stateKey] = { replaced, added }
}

/** Restores the stock kernels (no-op when not installed). */
export const uninstall = (): void => {
  const g = globalThis as GlobalWithState
  const state = g[stateKey]
  if (state === undefined) return
  for (const stock of state.replaced) {
    tf.unregisterKernel(stock.kernelName, backendName)
    tf.registerKernel(stock)
  }
  for (const name of state.added) tf.unregisterKernel(name, backendName)
  delete g[stateKey]
}
