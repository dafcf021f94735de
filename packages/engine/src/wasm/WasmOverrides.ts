/**
 * Installs rekindle's kernel overrides on the tfjs wasm backend with `tf.registerKernel`:
 * BatchMatMul (on a native BLAS when one is active, see NativeBlas.ts), _FusedMatMul, Transpose, Slice, SplitV, Sum (leading axes), GatherV2, Identity and same-dtype
 * Cast (no copy) replace the stock
 * kernels (the stock ones are kept and called for the cases the overrides do not handle);
 * UnsortedSegmentSum and the fused kernels are added: `RekindleHeadMatMul` (attention's per-head products on the `[B, T, H·D]` layout) and, for a native BLAS, `RekindleQkvProject`/`RekindleQkvProjectGrad` and `RekindleQkvGrad` (q, k, v from one product and their gradient in one buffer, QkvAttention.ts), `RekindleAdam` (and `RekindleAdamW`, the same with the weight decay and learning-rate tail, and `RekindleAdamWApply`, which also adds the update to the parameter), the LayerNorm pair
 * `RekindleLayerNorm`/`RekindleLayerNormGrad` and, in wasm SIMD (`kernels.wasm` on tfjs's heap),
 * `RekindleAddLayerNorm`, `RekindleBiasActivation`/`RekindleActivation`, `RekindleSoftmax` and
 * `RekindleSoftmaxCrossEntropy` with their gradient kernels; the column dot product `RekindleColumnDot` (the Taylor signal) runs in wasm SIMD there and in JavaScript otherwise, and
 * `RekindleSetAlong` (slice merges and fills for recycling) is added in both cases (`simdKernels: false` keeps the
 * previous JavaScript LayerNorm and Adam and adds none of the SIMD-only ones).
 * Idempotent; {@link uninstall} restores the stock kernels (benchmarks compare both).
 *
 * Never write into a tensor's heap memory in place: the BatchMatMul path caches XNNPACK operators
 * with packed weights keyed by tensor id, so an in-place edit would be silently ignored.
 */
import * as tf from "@tensorflow/tfjs-core"
import * as AdamKernel from "./AdamKernel.ts"
import * as BatchMatMulKernel from "./BatchMatMulKernel.ts"
import * as BiasActivationKernel from "./BiasActivationKernel.ts"
import * as CastKernel from "./CastKernel.ts"
import * as FusedMatMulKernel from "./FusedMatMulKernel.ts"
import * as GatherKernel from "./GatherKernel.ts"
import * as HeadMatMulKernel from "./HeadMatMulKernel.ts"
import * as IdentityKernel from "./IdentityKernel.ts"
import * as KernelHelper from "./KernelHelper.ts"
import * as ColumnDotKernel from "./ColumnDotKernel.ts"
import * as LayerNormKernel from "./LayerNormKernel.ts"
import * as FusedGradients from "./FusedGradients.ts"
import * as QkvGradKernel from "./QkvGradKernel.ts"
import * as QkvProjectKernel from "./QkvProjectKernel.ts"
import * as SetAlongKernel from "./SetAlongKernel.ts"
import * as SliceKernel from "./SliceKernel.ts"
import * as SoftmaxCrossEntropyKernel from "./SoftmaxCrossEntropyKernel.ts"
import * as SoftmaxKernel from "./SoftmaxKernel.ts"
import * as SplitKernel from "./SplitKernel.ts"
import * as SumKernel from "./SumKernel.ts"
import * as TransposeKernel from "./TransposeKernel.ts"
import * as UnsortedSegmentSumKernel from "./UnsortedSegmentSumKernel.ts"
import { Bug } from "@rekindle/core"

/** Which overrides to install (all `true` by default). */
export interface OverrideOptions {
  readonly batchMatMul?: boolean
  readonly transpose?: boolean
  /** Transpose that moves no data (identity permutation once size-1 axes are dropped) shares the data id instead of copying (needs `transpose`). */
  readonly transposeShare?: boolean
  readonly slice?: boolean
  /** SplitV as heap slices (needs `slice`). */
  readonly split?: boolean
  readonly sum?: boolean
  readonly unsortedSegmentSum?: boolean
  /** Identity shares the data id (refcount) instead of copying. */
  readonly identity?: boolean
  /** Cast to the same dtype shares the data id instead of copying. */
  readonly cast?: boolean
  /** GatherV2 (no batch dims) as heap copies of the gathered slices. */
  readonly gather?: boolean
  /** Register the fused LayerNorm kernels `RekindleLayerNorm` and `RekindleLayerNormGrad`. */
  readonly layerNorm?: boolean
  /** Register the fused Adam kernel `RekindleAdam`. */
  readonly adam?: boolean
  /**
   * Register `RekindleAdamW` too: Adam with the decoupled weight decay and the learning-rate factor
   * inside (needs `adam`); off = the optimizer composes its tail from TF.js ops (A/B).
   */
  readonly adamW?: boolean
  /**
   * Register `RekindleAdamWApply` too (needs `adamW`): the optimizer's update and `param + update`
   * in one pass (the training loop assigns its output); off = a separate TF.js `Add` (A/B).
   */
  readonly adamApply?: boolean
  /**
   * Run the fused kernels in wasm SIMD (`kernels.wasm`): LayerNorm, Adam, Sum over leading axes and
   * UnsortedSegmentSum (float32) as SIMD instead of the previous JavaScript loops, plus the SIMD-only kernels below. `false`
   * restores the previous set (JS loops, nothing else fused) for A/B comparisons.
   */
  readonly simdKernels?: boolean
  /** Register `RekindleAddLayerNorm` (residual add + LayerNorm; needs `simdKernels` and `layerNorm`). */
  readonly addLayerNorm?: boolean
  /** Register `RekindleBiasActivation` / `RekindleActivation` (ReLU, GELU, none: bias adds; needs `simdKernels`). */
  readonly biasActivation?: boolean
  /** Register `RekindleSoftmax` (scale + causal mask; needs `simdKernels`). */
  readonly softmax?: boolean
  /** Register `RekindleSoftmaxCrossEntropy` (the head's loss; needs `simdKernels`). */
  readonly softmaxCrossEntropy?: boolean
  /** Register `RekindleColumnDot` (Σ_rows a·b per column; the Taylor signal). */
  readonly columnDot?: boolean
  /** Register `RekindleSetAlong` (`Slices.mergeAlong` / `fillAlong` as a heap copy plus slice writes). */
  readonly setAlong?: boolean
  /** BatchMatMul: products on the active native BLAS, if any (NativeBlas.ts). */
  readonly blas?: boolean
  /** _FusedMatMul as the BatchMatMul override + Add + activation kernels (needs `batchMatMul`). */
  readonly fusedMatMul?: boolean
  /**
   * Register `RekindleHeadMatMul` (needs `batchMatMul`): attention's per-head products on the
   * `[B, T, H·D]` layout, no head split/merge transposes on the native-BLAS path (HeadMatMulKernel.ts).
   */
  readonly headProducts?: boolean
  /**
   * Register `RekindleQkvProject`, its gradient and `RekindleQkvGrad` (needs `headProducts` and `blas`): with a native BLAS active, the model
   * projects q, k, v with one product into one `[n, 3d]` buffer that the head products read in place
   * (QkvAttention.ts); off = three projections (A/B).
   */
  readonly fusedQkv?: boolean
  /** BatchMatMul: loop over batch slices on the fast path (attention). */
  readonly batchedLoop?: boolean
  /** BatchMatMul: allow the cost-model swap for 2-D TN/NT products. */
  readonly swap?: boolean
  /** BatchMatMul: batched loop on aliases of operand/output memory (no per-slice copies). */
  readonly aliasSlices?: boolean
  /** BatchMatMul: batched products with slices of at most this many FLOPs are "small" (0 = none). */
  readonly sequentialMaxFlops?: number
  /**
   * BatchMatMul: where small batched products run: `adaptive` (default: timed), `sequential`, `pool`.
   * On native BLAS: `pool` = on the library's threads, otherwise on one library thread (fixed rule).
   */
  readonly smallProducts?: BatchMatMulKernel.SmallProducts
  /**
   * Native BLAS: the batched products that run with the library on one thread (see `smallProducts`)
   * are split between the calling thread and a helper thread (BlasHelper.ts; the same bits).
   */
  readonly blasHelper?: boolean
  /**
   * The fused wasm SIMD kernels (Adam, LayerNorm and its gradient, bias + activation and its
   * gradient, softmax and its gradient, softmax cross-entropy and its gradient, Sum over leading
   * axes): large calls are split by rows, elements or (column sums) columns between the calling
   * thread and a helper thread on the shared heap (KernelHelper.ts; the same bits). Threaded build only.
   */
  readonly kernelHelper?: boolean
  /** With `kernelHelper`: split a call shape only where timing finds it faster (Adaptive.ts); off = every large call. */
  readonly kernelHelperTimed?: boolean
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
  if (k === undefined) throw new Bug(`stock wasm kernel ${name} is not registered (import @tensorflow/tfjs-backend-wasm first)`)
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
  /** Replaces the stock kernel `name` with `make(stock)` and returns the override. */
  const override = (name: string, make: (stock: tf.KernelFunc) => tf.KernelFunc): tf.KernelFunc => {
    const stock = stockKernel(name)
    const kernelFunc = make(stock.kernelFunc)
    replace(stock, kernelFunc)
    replaced.push(stock)
    return kernelFunc
  }
  /** Registers a kernel the wasm backend lacks (left alone when someone registered it already). */
  const add = (kernelName: string, kernelFunc: tf.KernelFunc): void => {
    if (tf.getKernel(kernelName, backendName) !== undefined) return
    tf.registerKernel({ kernelName, backendName, kernelFunc })
    added.push(kernelName)
  }
  const stockTranspose = stockKernel(tf.Transpose)
  const minElements = options.transposeBlockedMinElements ?? TransposeKernel.blockedMinElements
  if (on("transpose")) override(tf.Transpose, (stock) => TransposeKernel.make(stock, minElements, on("transposeShare")))
  if (on("batchMatMul")) {
    const transpose = TransposeKernel.dispatching(stockTranspose.kernelFunc, minElements)
    const matMul = override(tf.BatchMatMul, (stock) =>
      BatchMatMulKernel.make(stock, transpose, {
        blas: on("blas"),
        batchedLoop: on("batchedLoop"),
        swap: on("swap"),
        aliasSlices: on("aliasSlices"),
        ...(options.sequentialMaxFlops === undefined ? {} : { sequentialMaxFlops: options.sequentialMaxFlops }),
        ...(options.smallProducts === undefined ? {} : { smallProducts: options.smallProducts }),
        blasHelper: on("blasHelper")
      }))
    if (on("fusedMatMul")) override(tf._FusedMatMul, (stock) => FusedMatMulKernel.make(stock, matMul))
    if (on("headProducts")) {
      const headOptions = {
        blas: on("blas"),
        serialMaxFlops: options.smallProducts === "pool" ? 0 : (options.sequentialMaxFlops ?? BatchMatMulKernel.defaultSequentialMaxFlops),
        helper: on("blasHelper")
      }
      add(HeadMatMulKernel.kernelName, HeadMatMulKernel.make(matMul, transpose, headOptions))
      if (on("blas") && on("fusedQkv")) {
        add(QkvGradKernel.kernelName, QkvGradKernel.make(headOptions))
        add(QkvProjectKernel.forwardName, QkvProjectKernel.forward)
        add(QkvProjectKernel.gradName, QkvProjectKernel.grad)
      }
    }
  }
  if (on("slice")) {
    const slice = override(tf.Slice, SliceKernel.make)
    if (on("split")) override(tf.SplitV, () => SplitKernel.make(slice))
  }
  if (on("sum")) override(tf.Sum, (stock) => SumKernel.make(stock, on("simdKernels")))
  if (on("unsortedSegmentSum")) {
    add(tf.UnsortedSegmentSum, on("simdKernels") ? UnsortedSegmentSumKernel.simdKernel : UnsortedSegmentSumKernel.kernel)
  }
  if (on("identity")) override(tf.Identity, IdentityKernel.make)
  if (on("cast")) override(tf.Cast, CastKernel.make)
  if (on("gather")) override(tf.GatherV2, GatherKernel.make)
  const simd = on("simdKernels")
  KernelHelper.use(on("kernelHelper"), on("kernelHelperTimed"))
  if (on("layerNorm")) {
    add(LayerNormKernel.forwardName, simd ? LayerNormKernel.simdForwardKernel : LayerNormKernel.forward)
    add(LayerNormKernel.gradName, simd ? LayerNormKernel.simdGradKernel : LayerNormKernel.grad)
    if (simd && on("addLayerNorm")) add(LayerNormKernel.addForwardName, LayerNormKernel.addForwardKernel)
  }
  if (on("adam")) {
    add(AdamKernel.kernelName, simd ? AdamKernel.simdKernel : AdamKernel.kernel)
    if (on("adamW")) add(AdamKernel.tailKernelName, simd ? AdamKernel.simdKernel : AdamKernel.kernel)
    if (on("adamW") && on("adamApply")) add(AdamKernel.applyKernelName, AdamKernel.applying(simd ? AdamKernel.simdKernel : AdamKernel.kernel))
  }
  if (simd && on("biasActivation")) {
    add(BiasActivationKernel.forwardName, BiasActivationKernel.forward)
    add(BiasActivationKernel.activationName, BiasActivationKernel.forward)
    add(BiasActivationKernel.gradName, BiasActivationKernel.grad)
  }
  if (simd && on("softmax")) {
    add(SoftmaxKernel.forwardName, SoftmaxKernel.forward)
    add(SoftmaxKernel.gradName, SoftmaxKernel.grad)
  }
  if (simd && on("softmaxCrossEntropy")) {
    add(SoftmaxCrossEntropyKernel.forwardName, SoftmaxCrossEntropyKernel.forward)
    add(SoftmaxCrossEntropyKernel.gradName, SoftmaxCrossEntropyKernel.grad)
  }
  if (simd || on("headProducts")) FusedGradients.register()
  if (on("columnDot")) add(ColumnDotKernel.kernelName, simd ? ColumnDotKernel.simdKernel : ColumnDotKernel.kernel)
  if (on("setAlong")) add(SetAlongKernel.kernelName, SetAlongKernel.kernel)
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
  KernelHelper.use(false)
  delete g[stateKey]
}
