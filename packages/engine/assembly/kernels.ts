/**
 * rekindle's fused kernels in wasm SIMD (AssemblyScript), run on tfjs-backend-wasm's own heap: the
 * module imports tfjs's `WebAssembly.Memory` (shared in the threaded build) and every argument
 * named `*P` is a byte address of a tensor on that heap. Built by `npm run build:kernels -w
 * @rekindle/engine` into `src/wasm/kernels/*.wasm`; the built files are committed.
 *
 * Rules: no static data, no globals, no allocation (the module owns no memory: anything it wrote
 * outside the given tensors would corrupt tfjs's heap); plain 128-bit SIMD only (no relaxed SIMD,
 * no FMA), so results are the same bits on every machine. A kernel call runs on one thread; large
 * calls are cut into row or column ranges by the caller (KernelHelper.ts), run on two threads.
 */

// ---------------------------------------------------------------- helpers

@inline function ld(p: usize): v128 {
  return v128.load(p)
}

@inline function st(p: usize, v: v128): void {
  v128.store(p, v)
}

@inline function sp(x: f32): v128 {
  return f32x4.splat(x)
}

/** Sum of the four lanes, in lane order. */
@inline function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3)
}

/** Largest lane. */
@inline function hmax(v: v128): f32 {
  return max(max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)))
}

/**
 * e^x on four lanes (Cephes' expf polynomial; the range reduction rounds x·log2(e) to an integer n
 * with the "magic bias" trick, which also leaves 2^n's exponent bits in place: no float↔int
 * conversions). Relative error ~1e-7 in [-87.3, 88]; exactly 0 below −87.3 (where e^x would be
 * subnormal), and inputs above 88 are clamped to 88.
 */
@inline function vexp(x0: v128): v128 {
  const lo = sp(-87.33654)
  const valid = f32x4.ge(x0, lo)
  const x = f32x4.pmin(f32x4.pmax(x0, lo), sp(88.0))
  // 1.5·2^23 + 127: adding it rounds to an integer in the low mantissa bits, biased by 127
  const magic = sp(12583039.0)
  let n = f32x4.add(f32x4.mul(x, sp(1.44269504088896341)), magic)
  const pow2n = i32x4.shl(n, 23)
  n = f32x4.sub(n, magic)
  let r = f32x4.sub(x, f32x4.mul(n, sp(0.693359375)))
  r = f32x4.sub(r, f32x4.mul(n, sp(-2.12194440e-4)))
  const z = f32x4.mul(r, r)
  let y = sp(1.9875691500e-4)
  y = f32x4.add(f32x4.mul(y, r), sp(1.3981999507e-3))
  y = f32x4.add(f32x4.mul(y, r), sp(8.3334519073e-3))
  y = f32x4.add(f32x4.mul(y, r), sp(4.1665795894e-2))
  y = f32x4.add(f32x4.mul(y, r), sp(1.6666665459e-1))
  y = f32x4.add(f32x4.mul(y, r), sp(5.0000001201e-1))
  y = f32x4.add(f32x4.add(f32x4.mul(y, z), r), sp(1.0))
  return v128.and(f32x4.mul(y, pow2n), valid)
}

/** Scalar e^x through the vector routine (lane 0). */
@inline function sexp(x: f32): f32 {
  return f32x4.extract_lane(vexp(sp(x)), 0)
}

/**
 * ln x for x > 0 (normal numbers): x = m·2^e with m in [√½, √2), ln m by Cephes' logf
 * polynomial. Relative error ~1e-7.
 */
function slog(x: f32): f32 {
  let bits = reinterpret<i32>(x)
  let e = <f32>((bits >> 23) - 127)
  let m = reinterpret<f32>((bits & 0x007fffff) | 0x3f800000)
  if (m > <f32>1.41421356) {
    m *= 0.5
    e += 1
  }
  const t = m - 1
  const z = t * t
  let y: f32 = 7.0376836292e-2
  y = y * t - 1.1514610310e-1
  y = y * t + 1.1676998740e-1
  y = y * t - 1.2420140846e-1
  y = y * t + 1.4249322787e-1
  y = y * t - 1.6668057665e-1
  y = y * t + 2.0000714765e-1
  y = y * t - 2.4999993993e-1
  y = y * t + 3.3333331174e-1
  y = y * t * z
  y += e * -2.12194440e-4
  y += -0.5 * z
  return t + y + e * 0.693359375
}

/** Column sums kept in float64 (2 lanes per v128) at `accP` for `d` columns: zero them. */
function zero64(accP: usize, d: i32): void {
  for (let j = 0; j < d; j++) store<f64>(accP + (<usize>j << 3), 0)
}

/** acc[j] += v[j] for four columns starting at byte address `a` of the float64 accumulators. */
@inline function acc4(a: usize, v: v128): void {
  st(a, f64x2.add(ld(a), f64x2.promote_low_f32x4(v)))
  st(a + 16, f64x2.add(ld(a + 16), f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1))))
}

/** out[j] = f32(acc[j]). */
function store64as32(accP: usize, outP: usize, d: i32): void {
  for (let j = 0; j < d; j++) store<f32>(outP + (<usize>j << 2), <f32>load<f64>(accP + (<usize>j << 3)))
}

// ---------------------------------------------------------------- Adam

/**
 * Adam with per-element bias correction (the `RekindleAdam` contract), every operation in float32
 * in the order of the op-by-op composition (so the bits are the composition's):
 * m = mu·b1 + g·c1, v = nu·b2 + g²·c2, k1 = bc1·b1 + c1, k2 = bc2·b2 + c2,
 * u = (m / k1) / (sqrt(v / k2) + eps); then (the `RekindleAdamW` tail) when `decay` != 0
 * u = u + p·wd (decoupled weight decay, `p` at `pP`), and when `hasScale` != 0 u = u·scale (the
 * learning-rate factor −lr), in that order, as the optimizer chain composes them; when `apply` != 0
 * the output is p + u (the parameter after the update, `p` at `pP`) instead of u.
 */
export function adam(
  n: i32, gP: usize, muP: usize, nuP: usize, bc1P: usize, bc2P: usize,
  uP: usize, mOutP: usize, vOutP: usize, k1OutP: usize, k2OutP: usize,
  b1: f32, b2: f32, c1: f32, c2: f32, eps: f32,
  decay: i32, pP: usize, wd: f32, hasScale: i32, scale: f32, apply: i32
): void {
  const vb1 = sp(b1), vb2 = sp(b2), vc1 = sp(c1), vc2 = sp(c2), ve = sp(eps), vwd = sp(wd), vscale = sp(scale)
  let i = 0
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2
    const g = ld(gP + o)
    const m = f32x4.add(f32x4.mul(ld(muP + o), vb1), f32x4.mul(g, vc1))
    const v = f32x4.add(f32x4.mul(ld(nuP + o), vb2), f32x4.mul(f32x4.mul(g, g), vc2))
    const k1 = f32x4.add(f32x4.mul(ld(bc1P + o), vb1), vc1)
    const k2 = f32x4.add(f32x4.mul(ld(bc2P + o), vb2), vc2)
    st(mOutP + o, m)
    st(vOutP + o, v)
    st(k1OutP + o, k1)
    st(k2OutP + o, k2)
    let u = f32x4.div(f32x4.div(m, k1), f32x4.add(f32x4.sqrt(f32x4.div(v, k2)), ve))
    if (decay != 0) u = f32x4.add(u, f32x4.mul(ld(pP + o), vwd))
    if (hasScale != 0) u = f32x4.mul(u, vscale)
    if (apply != 0) u = f32x4.add(ld(pP + o), u)
    st(uP + o, u)
  }
  for (; i < n; i++) {
    const o = <usize>i << 2
    const g = load<f32>(gP + o)
    const m = load<f32>(muP + o) * b1 + g * c1
    const v = load<f32>(nuP + o) * b2 + (g * g) * c2
    const k1 = load<f32>(bc1P + o) * b1 + c1
    const k2 = load<f32>(bc2P + o) * b2 + c2
    store<f32>(mOutP + o, m)
    store<f32>(vOutP + o, v)
    store<f32>(k1OutP + o, k1)
    store<f32>(k2OutP + o, k2)
    let u = (m / k1) / (Mathf.sqrt(v / k2) + eps)
    if (decay != 0) u = u + load<f32>(pP + o) * wd
    if (hasScale != 0) u = u * scale
    if (apply != 0) u = load<f32>(pP + o) + u
    store<f32>(uP + o, u)
  }
}

// ---------------------------------------------------------------- LayerNorm

/**
 * LayerNorm over rows of `d` (optionally after a residual add): for each of `n` rows,
 * s = x (+ r when `hasR`, written to `sP`), mean, rstd = 1/sqrt(var + eps) (biased variance, two
 * passes; row sums in four float32 lanes, combined in float64), y = (s − mean)·rstd·gain + bias.
 */
export function layerNorm(
  n: i32, d: i32, xP: usize, hasR: i32, rP: usize, sP: usize,
  gainP: usize, biasP: usize, yP: usize, meanP: usize, rstdP: usize, eps: f32
): void {
  const d4 = d & ~3
  const rowBytes = <usize>d << 2
  for (let r = 0; r < n; r++) {
    const base = <usize>r * rowBytes
    let src = xP + base
    if (hasR != 0) {
      const dst = sP + base
      const add = rP + base
      let j = 0
      for (; j < d4; j += 4) st(dst + (<usize>j << 2), f32x4.add(ld(src + (<usize>j << 2)), ld(add + (<usize>j << 2))))
      for (; j < d; j++) store<f32>(dst + (<usize>j << 2), load<f32>(src + (<usize>j << 2)) + load<f32>(add + (<usize>j << 2)))
      src = dst
    }
    let acc = sp(0)
    let tail: f64 = 0
    let j = 0
    for (; j < d4; j += 4) acc = f32x4.add(acc, ld(src + (<usize>j << 2)))
    for (; j < d; j++) tail += <f64>load<f32>(src + (<usize>j << 2))
    const mu64 = (<f64>f32x4.extract_lane(acc, 0) + <f64>f32x4.extract_lane(acc, 1) + <f64>f32x4.extract_lane(acc, 2) + <f64>f32x4.extract_lane(acc, 3) + tail) / <f64>d
    const mu = <f32>mu64
    const vmu = sp(mu)
    acc = sp(0)
    tail = 0
    j = 0
    for (; j < d4; j += 4) {
      const c = f32x4.sub(ld(src + (<usize>j << 2)), vmu)
      acc = f32x4.add(acc, f32x4.mul(c, c))
    }
    for (; j < d; j++) {
      const c = load<f32>(src + (<usize>j << 2)) - mu
      tail += <f64>(c * c)
    }
    const var64 = (<f64>f32x4.extract_lane(acc, 0) + <f64>f32x4.extract_lane(acc, 1) + <f64>f32x4.extract_lane(acc, 2) + <f64>f32x4.extract_lane(acc, 3) + tail) / <f64>d
    const rs = <f32>(1.0 / Math.sqrt(var64 + <f64>eps))
    const vrs = sp(rs)
    const out = yP + base
    j = 0
    for (; j < d4; j += 4) {
      const o = <usize>j << 2
      st(out + o, f32x4.add(f32x4.mul(f32x4.mul(f32x4.sub(ld(src + o), vmu), vrs), ld(gainP + o)), ld(biasP + o)))
    }
    for (; j < d; j++) {
      const o = <usize>j << 2
      store<f32>(out + o, (load<f32>(src + o) - mu) * rs * load<f32>(gainP + o) + load<f32>(biasP + o))
    }
    store<f32>(meanP + (<usize>r << 2), mu)
    store<f32>(rstdP + (<usize>r << 2), rs)
  }
}

/**
 * LayerNorm's gradient: x̂ = (x − mean)·rstd, g = dy·gain,
 * dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) (+ ds when `hasDs`: the residual stream's own gradient),
 * dgain = Σ_rows dy·x̂, dbias = Σ_rows dy (column sums in float64 at `accP`: 2·d float64; only when
 * `sums`, otherwise dx alone: {@link layerNormGradSums} gives the sums by column ranges).
 */
export function layerNormGrad(
  n: i32, d: i32, dyP: usize, xP: usize, gainP: usize, meanP: usize, rstdP: usize,
  hasDs: i32, dsP: usize, dxP: usize, dgainP: usize, dbiasP: usize, accP: usize, sums: i32
): void {
  const d4 = d & ~3
  const rowBytes = <usize>d << 2
  const accG = accP
  const accB = accP + (<usize>d << 3)
  if (sums != 0) zero64(accP, 2 * d)
  for (let r = 0; r < n; r++) {
    const base = <usize>r * rowBytes
    const dy = dyP + base, x = xP + base
    const mu = load<f32>(meanP + (<usize>r << 2))
    const rs = load<f32>(rstdP + (<usize>r << 2))
    const vmu = sp(mu), vrs = sp(rs)
    let sG = sp(0), sGX = sp(0)
    let tG: f32 = 0, tGX: f32 = 0
    let j = 0
    for (; j < d4; j += 4) {
      const o = <usize>j << 2
      const g = ld(dy + o)
      const xh = f32x4.mul(f32x4.sub(ld(x + o), vmu), vrs)
      const gg = f32x4.mul(g, ld(gainP + o))
      sG = f32x4.add(sG, gg)
      sGX = f32x4.add(sGX, f32x4.mul(gg, xh))
      if (sums != 0) {
        acc4(accG + (<usize>j << 3), f32x4.mul(g, xh))
        acc4(accB + (<usize>j << 3), g)
      }
    }
    for (; j < d; j++) {
      const o = <usize>j << 2
      const g = load<f32>(dy + o)
      const xh = (load<f32>(x + o) - mu) * rs
      const gg = g * load<f32>(gainP + o)
      tG += gg
      tGX += gg * xh
      if (sums != 0) {
        const a = <usize>j << 3
        store<f64>(accG + a, load<f64>(accG + a) + <f64>(g * xh))
        store<f64>(accB + a, load<f64>(accB + a) + <f64>g)
      }
    }
    const mG = <f32>((<f64>hsum(sG) + <f64>tG) / <f64>d)
    const mGX = <f32>((<f64>hsum(sGX) + <f64>tGX) / <f64>d)
    const vmG = sp(mG), vmGX = sp(mGX)
    const out = dxP + base
    const ds = dsP + base
    j = 0
    for (; j < d4; j += 4) {
      const o = <usize>j << 2
      const xh = f32x4.mul(f32x4.sub(ld(x + o), vmu), vrs)
      let v = f32x4.mul(vrs, f32x4.sub(f32x4.sub(f32x4.mul(ld(dy + o), ld(gainP + o)), vmG), f32x4.mul(xh, vmGX)))
      if (hasDs != 0) v = f32x4.add(v, ld(ds + o))
      st(out + o, v)
    }
    for (; j < d; j++) {
      const o = <usize>j << 2
      const xh = (load<f32>(x + o) - mu) * rs
      let v = rs * (load<f32>(dy + o) * load<f32>(gainP + o) - mG - xh * mGX)
      if (hasDs != 0) v += load<f32>(ds + o)
      store<f32>(out + o, v)
    }
  }
  if (sums != 0) {
    store64as32(accG, dgainP, d)
    store64as32(accB, dbiasP, d)
  }
}

/**
 * {@link layerNormGrad}'s column sums alone, for `cols` columns of rows `stride` floats apart (a
 * column range of the whole: `dyP`, `xP`, `dgainP`, `dbiasP` and `accP` point at its first column):
 * dgain = Σ_rows dy·x̂, dbias = Σ_rows dy, the same float32 products and float64 additions in the
 * same row order as the fused kernel (the same bits). `accP`: 2·cols float64.
 */
export function layerNormGradSums(
  n: i32, cols: i32, stride: i32, dyP: usize, xP: usize, meanP: usize, rstdP: usize,
  dgainP: usize, dbiasP: usize, accP: usize
): void {
  const c4 = cols & ~3
  const rowBytes = <usize>stride << 2
  const accG = accP
  const accB = accP + (<usize>cols << 3)
  zero64(accP, 2 * cols)
  let dy = dyP, x = xP
  for (let r = 0; r < n; r++, dy += rowBytes, x += rowBytes) {
    const stat = <usize>r << 2
    const mu = load<f32>(meanP + stat), rs = load<f32>(rstdP + stat)
    const vmu = sp(mu), vrs = sp(rs)
    let j = 0
    for (; j < c4; j += 4) {
      const o = <usize>j << 2
      const g = ld(dy + o)
      acc4(accG + (<usize>j << 3), f32x4.mul(g, f32x4.mul(f32x4.sub(ld(x + o), vmu), vrs)))
      acc4(accB + (<usize>j << 3), g)
    }
    for (; j < cols; j++) {
      const o = <usize>j << 2
      const g = load<f32>(dy + o)
      const a = <usize>j << 3
      store<f64>(accG + a, load<f64>(accG + a) + <f64>(g * ((load<f32>(x + o) - mu) * rs)))
      store<f64>(accB + a, load<f64>(accB + a) + <f64>g)
    }
  }
  store64as32(accG, dgainP, cols)
  store64as32(accB, dbiasP, cols)
}

// ---------------------------------------------------------------- bias + activation

/** sqrt(8/π) and GELU's cubic coefficient (tanh approximation written through sigmoid). */
const geluK: f32 = 1.5957691216057308
const geluA: f32 = 0.044715

/** GELU on four lanes: z·sigmoid(k·(z + a·z³)). */
@inline function vgelu(z: v128): v128 {
  const u = f32x4.mul(f32x4.add(z, f32x4.mul(f32x4.mul(f32x4.mul(z, z), z), sp(geluA))), sp(geluK))
  const s = f32x4.div(sp(1), f32x4.add(sp(1), vexp(f32x4.neg(u))))
  return f32x4.mul(z, s)
}

/** GELU's derivative on four lanes: s + z·s·(1 − s)·k·(1 + 3a·z²). */
@inline function vgeluDeriv(z: v128): v128 {
  const z2 = f32x4.mul(z, z)
  const u = f32x4.mul(f32x4.add(z, f32x4.mul(f32x4.mul(z2, z), sp(geluA))), sp(geluK))
  const s = f32x4.div(sp(1), f32x4.add(sp(1), vexp(f32x4.neg(u))))
  const du = f32x4.mul(sp(geluK), f32x4.add(sp(1), f32x4.mul(z2, sp(3 * geluA))))
  return f32x4.add(s, f32x4.mul(f32x4.mul(f32x4.mul(z, s), f32x4.sub(sp(1), s)), du))
}

/** act 0: ReLU, 1: GELU, 2: none (a plain bias add). */
@inline function vact(z: v128, act: i32): v128 {
  return act == 0 ? f32x4.pmax(z, sp(0)) : act == 1 ? vgelu(z) : z
}

@inline function vactDeriv(z: v128, act: i32): v128 {
  return act == 0 ? v128.and(sp(1), f32x4.gt(z, sp(0))) : act == 1 ? vgeluDeriv(z) : sp(1)
}

/** y = act(x + bias) on `n` rows of `f` (bias `[f]` when `hasBias`); act 0 = ReLU, 1 = GELU, 2 = none. */
export function biasAct(n: i32, f: i32, xP: usize, hasBias: i32, biasP: usize, act: i32, yP: usize): void {
  const f4 = f & ~3
  const rowBytes = <usize>f << 2
  for (let r = 0; r < n; r++) {
    const x = xP + <usize>r * rowBytes
    const y = yP + <usize>r * rowBytes
    let j = 0
    for (; j < f4; j += 4) {
      const o = <usize>j << 2
      let z = ld(x + o)
      if (hasBias != 0) z = f32x4.add(z, ld(biasP + o))
      st(y + o, vact(z, act))
    }
    for (; j < f; j++) {
      const o = <usize>j << 2
      let z = load<f32>(x + o)
      if (hasBias != 0) z += load<f32>(biasP + o)
      store<f32>(y + o, f32x4.extract_lane(vact(sp(z), act), 0))
    }
  }
}

/**
 * Gradient of {@link biasAct}: dx = dy·act'(x + bias); dbias = Σ_rows dx when `hasBias` and `sums`
 * (float64 column sums at `accP`: f float64; {@link colSum} of dx gives the same bits). ReLU'(0) = 0
 * (TF.js's step).
 */
export function biasActGrad(
  n: i32, f: i32, dyP: usize, xP: usize, hasBias: i32, biasP: usize, act: i32, dxP: usize, dbiasP: usize, accP: usize, sums: i32
): void {
  const f4 = f & ~3
  const rowBytes = <usize>f << 2
  const acc = hasBias != 0 && sums != 0
  if (acc) zero64(accP, f)
  for (let r = 0; r < n; r++) {
    const base = <usize>r * rowBytes
    const x = xP + base, dy = dyP + base, dx = dxP + base
    let j = 0
    for (; j < f4; j += 4) {
      const o = <usize>j << 2
      let z = ld(x + o)
      if (hasBias != 0) z = f32x4.add(z, ld(biasP + o))
      const g = f32x4.mul(ld(dy + o), vactDeriv(z, act))
      st(dx + o, g)
      if (acc) acc4(accP + (<usize>j << 3), g)
    }
    for (; j < f; j++) {
      const o = <usize>j << 2
      let z = load<f32>(x + o)
      if (hasBias != 0) z += load<f32>(biasP + o)
      const g = load<f32>(dy + o) * f32x4.extract_lane(vactDeriv(sp(z), act), 0)
      store<f32>(dx + o, g)
      if (acc) store<f64>(accP + (<usize>j << 3), load<f64>(accP + (<usize>j << 3)) + <f64>g)
    }
  }
  if (acc) store64as32(accP, dbiasP, f)
}

/**
 * Column sums of `rows` × `cols` float32 (a sum over leading axes; rows `stride` floats apart, so
 * a column range of a wider matrix works too) into `outP`, accumulated in float64 row by row
 * (`accP`: cols float64): the same additions in the same order as a scalar float64 loop, so the
 * same bits.
 */
export function colSum(rows: i32, cols: i32, stride: i32, xP: usize, outP: usize, accP: usize): void {
  const c4 = cols & ~3
  const rowBytes = <usize>stride << 2
  zero64(accP, cols)
  for (let r = 0; r < rows; r++) {
    const x = xP + <usize>r * rowBytes
    let j = 0
    for (; j < c4; j += 4) acc4(accP + (<usize>j << 3), ld(x + (<usize>j << 2)))
    for (; j < cols; j++) store<f64>(accP + (<usize>j << 3), load<f64>(accP + (<usize>j << 3)) + <f64>load<f32>(x + (<usize>j << 2)))
  }
  store64as32(accP, outP, cols)
}

/**
 * Σ_rows a[r, j]·b[r, j] per column of two `rows` × `cols` float32 matrices into `outP` (the
 * `RekindleColumnDot` contract, the Taylor signal), each product and sum in float64, row by row
 * (`accP`: cols float64): the product of two float32 is exact in float64 and the additions come
 * in the scalar loop's order, so the same bits.
 */
export function colDot(rows: i32, cols: i32, aP: usize, bP: usize, outP: usize, accP: usize): void {
  const c4 = cols & ~3
  const rowBytes = <usize>cols << 2
  zero64(accP, cols)
  for (let r = 0; r < rows; r++) {
    const a = aP + <usize>r * rowBytes
    const b = bP + <usize>r * rowBytes
    let j = 0
    for (; j < c4; j += 4) {
      const va = ld(a + (<usize>j << 2))
      const vb = ld(b + (<usize>j << 2))
      const p = accP + (<usize>j << 3)
      st(p, f64x2.add(ld(p), f64x2.mul(f64x2.promote_low_f32x4(va), f64x2.promote_low_f32x4(vb))))
      const ha = i32x4.shuffle(va, va, 2, 3, 0, 1)
      const hb = i32x4.shuffle(vb, vb, 2, 3, 0, 1)
      st(p + 16, f64x2.add(ld(p + 16), f64x2.mul(f64x2.promote_low_f32x4(ha), f64x2.promote_low_f32x4(hb))))
    }
    for (; j < cols; j++) {
      const p = accP + (<usize>j << 3)
      store<f64>(p, load<f64>(p) + <f64>load<f32>(a + (<usize>j << 2)) * <f64>load<f32>(b + (<usize>j << 2)))
    }
  }
  store64as32(accP, outP, cols)
}

/**
 * out[ids[i]] += x[i] for `n` rows of `inner` float32 (the embedding gradient), after zeroing the
 * `numSegments` output rows; ids outside [0, numSegments) are dropped. Float32 additions in row
 * order: the same bits as a scalar loop.
 */
export function segmentSum(n: i32, inner: i32, xP: usize, idsP: usize, numSegments: i32, outP: usize): void {
  const total = <usize>numSegments * <usize>inner
  const t4 = total & ~(<usize>3)
  let k: usize = 0
  for (; k < t4; k += 4) st(outP + (k << 2), sp(0))
  for (; k < total; k++) store<f32>(outP + (k << 2), 0)
  const i4 = inner & ~3
  const rowBytes = <usize>inner << 2
  for (let i = 0; i < n; i++) {
    const s = load<i32>(idsP + (<usize>i << 2))
    if (s < 0 || s >= numSegments) continue
    const d = outP + <usize>s * rowBytes
    const x = xP + <usize>i * rowBytes
    let j = 0
    for (; j < i4; j += 4) st(d + (<usize>j << 2), f32x4.add(ld(d + (<usize>j << 2)), ld(x + (<usize>j << 2))))
    for (; j < inner; j++) store<f32>(d + (<usize>j << 2), load<f32>(d + (<usize>j << 2)) + load<f32>(x + (<usize>j << 2)))
  }
}

// ---------------------------------------------------------------- softmax

/**
 * Softmax of one row of `len` valid entries (scaled by `scale`) into `y`; entries from `len` to
 * `cols` are masked (written as 0). Returns nothing; `x` and `y` may be the same address.
 */
@inline function softmaxRow(x: usize, y: usize, len: i32, cols: i32, scale: f32): void {
  const l4 = len & ~3
  const l8 = len & ~7
  const vs = sp(scale)
  let vm = sp(-Infinity)
  let m: f32 = -Infinity
  let j = 0
  for (; j < l4; j += 4) vm = f32x4.pmax(vm, f32x4.mul(ld(x + (<usize>j << 2)), vs))
  for (; j < len; j++) m = max(m, load<f32>(x + (<usize>j << 2)) * scale)
  m = max(m, hmax(vm))
  const vmax = sp(m)
  // two independent exp chains per iteration (the polynomial is a long dependency chain)
  let acc = sp(0)
  let acc2 = sp(0)
  let tail: f32 = 0
  j = 0
  const l16 = len & ~15
  for (; j < l16; j += 16) {
    const o = <usize>j << 2
    const e = vexp(f32x4.sub(f32x4.mul(ld(x + o), vs), vmax))
    const e2 = vexp(f32x4.sub(f32x4.mul(ld(x + o + 16), vs), vmax))
    const e3 = vexp(f32x4.sub(f32x4.mul(ld(x + o + 32), vs), vmax))
    const e4 = vexp(f32x4.sub(f32x4.mul(ld(x + o + 48), vs), vmax))
    st(y + o, e)
    st(y + o + 16, e2)
    st(y + o + 32, e3)
    st(y + o + 48, e4)
    acc = f32x4.add(acc, f32x4.add(e, e3))
    acc2 = f32x4.add(acc2, f32x4.add(e2, e4))
  }
  for (; j < l8; j += 8) {
    const o = <usize>j << 2
    const e = vexp(f32x4.sub(f32x4.mul(ld(x + o), vs), vmax))
    const e2 = vexp(f32x4.sub(f32x4.mul(ld(x + o + 16), vs), vmax))
    st(y + o, e)
    st(y + o + 16, e2)
    acc = f32x4.add(acc, e)
    acc2 = f32x4.add(acc2, e2)
  }
  for (; j < l4; j += 4) {
    const e = vexp(f32x4.sub(f32x4.mul(ld(x + (<usize>j << 2)), vs), vmax))
    st(y + (<usize>j << 2), e)
    acc = f32x4.add(acc, e)
  }
  for (; j < len; j++) {
    const e = sexp(load<f32>(x + (<usize>j << 2)) * scale - m)
    store<f32>(y + (<usize>j << 2), e)
    tail += e
  }
  const inv: f32 = <f32>1 / (hsum(f32x4.add(acc, acc2)) + tail)
  const vinv = sp(inv)
  j = 0
  for (; j < l4; j += 4) st(y + (<usize>j << 2), f32x4.mul(ld(y + (<usize>j << 2)), vinv))
  for (; j < len; j++) store<f32>(y + (<usize>j << 2), load<f32>(y + (<usize>j << 2)) * inv)
  for (; j < cols; j++) store<f32>(y + (<usize>j << 2), 0)
}

/**
 * y = softmax(x·scale (+ causal mask) (+ padding mask)) over rows of `cols`. With `causalT` > 0 the
 * rows form `[T, T]` blocks (cols = T) and row i of a block sees keys 0..i only. With
 * `rowsPerLen` > 0, row r sees keys 0..len−1 only, len = the int32 at `lensP` index
 * ⌊r / rowsPerLen⌋ (a key padding mask: one valid length per sequence, `rowsPerLen` = heads·T
 * rows each); both masks combine. Masked entries are 0 exactly (lengths are ≥ 1: the caller checks).
 */
export function softmax(rows: i32, cols: i32, xP: usize, yP: usize, scale: f32, causalT: i32, lensP: usize, rowsPerLen: i32): void {
  const rowBytes = <usize>cols << 2
  for (let r = 0; r < rows; r++) {
    let len = causalT > 0 ? (r % causalT) + 1 : cols
    if (rowsPerLen > 0) len = min(len, load<i32>(lensP + (<usize>(r / rowsPerLen) << 2)))
    softmaxRow(xP + <usize>r * rowBytes, yP + <usize>r * rowBytes, len, cols, scale)
  }
}

/** Softmax's gradient from its output: dx = scale·y·(dy − Σ dy·y) per row of `cols`. */
export function softmaxGrad(rows: i32, cols: i32, yP: usize, dyP: usize, dxP: usize, scale: f32): void {
  const c4 = cols & ~3
  const rowBytes = <usize>cols << 2
  for (let r = 0; r < rows; r++) {
    const base = <usize>r * rowBytes
    const y = yP + base, dy = dyP + base, dx = dxP + base
    let acc = sp(0)
    let tail: f32 = 0
    let j = 0
    for (; j < c4; j += 4) acc = f32x4.add(acc, f32x4.mul(ld(dy + (<usize>j << 2)), ld(y + (<usize>j << 2))))
    for (; j < cols; j++) tail += load<f32>(dy + (<usize>j << 2)) * load<f32>(y + (<usize>j << 2))
    const dot = hsum(acc) + tail
    const vdot = sp(dot), vs = sp(scale)
    j = 0
    for (; j < c4; j += 4) {
      const o = <usize>j << 2
      st(dx + o, f32x4.mul(f32x4.mul(ld(y + o), f32x4.sub(ld(dy + o), vdot)), vs))
    }
    for (; j < cols; j++) {
      const o = <usize>j << 2
      store<f32>(dx + o, load<f32>(y + o) * (load<f32>(dy + o) - dot) * scale)
    }
  }
}

// ---------------------------------------------------------------- softmax cross-entropy

/**
 * The masked-LM head's loss: per row of `v` logits, p = softmax(row) (written to `pP`) and
 * loss = −ln max(p[target], minP). Targets must be in [0, v) (checked by the caller).
 */
export function softmaxXent(m: i32, v: i32, logitsP: usize, targetsP: usize, pP: usize, lossP: usize, minP: f32): void {
  const rowBytes = <usize>v << 2
  for (let r = 0; r < m; r++) {
    const p = pP + <usize>r * rowBytes
    softmaxRow(logitsP + <usize>r * rowBytes, p, v, v, 1)
    const t = load<i32>(targetsP + (<usize>r << 2))
    store<f32>(lossP + (<usize>r << 2), -slog(max(load<f32>(p + (<usize>t << 2)), minP)))
  }
}

/**
 * Its gradient: dlogits = (p − onehot(target))·g with g = dy[row] / divisor (`dyStride` 4: one dy
 * per row; 0: one dy for all rows, as for a mean over rows with divisor = m).
 */
export function softmaxXentGrad(m: i32, v: i32, pP: usize, targetsP: usize, dyP: usize, dyStride: i32, divisor: f32, dxP: usize): void {
  const v4 = v & ~3
  const rowBytes = <usize>v << 2
  for (let r = 0; r < m; r++) {
    const base = <usize>r * rowBytes
    const p = pP + base, dx = dxP + base
    const g = load<f32>(dyP + <usize>r * <usize>dyStride) / divisor
    const vg = sp(g)
    let j = 0
    for (; j < v4; j += 4) st(dx + (<usize>j << 2), f32x4.mul(ld(p + (<usize>j << 2)), vg))
    for (; j < v; j++) store<f32>(dx + (<usize>j << 2), load<f32>(p + (<usize>j << 2)) * g)
    const t = <usize>load<i32>(targetsP + (<usize>r << 2)) << 2
    store<f32>(dx + t, (load<f32>(p + t) - 1) * g)
  }
}

// ---------------------------------------------------------------- changed slices (recycling checks)

/** Flags slice (e / inner) % n in `strayP` when element e differs (see `strayMark`) and the slice is not flagged in `okP`. */
@inline function markIfStray(e: i32, aP: usize, bP: usize, inner: i32, n: i32, okP: usize, strayP: usize, floats: i32): void {
  const at = <usize>e << 2
  if (load<u32>(aP + at) == load<u32>(bP + at)) return
  if (floats != 0) {
    const x = load<f32>(aP + at)
    const y = load<f32>(bP + at)
    if (x == y || (x != x && y != y)) return
  }
  const i = <usize>((e / inner) % n)
  if (load<u8>(okP + i) == 0) store<u8>(strayP + i, 1)
}

/**
 * The slices along an axis (element e lies in slice (e / inner) % n) in which the `size` 4-byte
 * elements of a and b differ: flags them with 1 in the bytes `strayP[n]` (left as they are
 * elsewhere), skipping slices flagged nonzero in `okP[n]`. Exact comparison: of the bits for
 * int32; with `floats` nonzero, of the float32 values with two NaNs equal (and +0 equal to −0),
 * looked at only where the bits differ. Eight words are compared at a time; only blocks with
 * a difference are looked at element by element. Writes nothing but `strayP`.
 */
export function strayMark(size: i32, aP: usize, bP: usize, inner: i32, n: i32, okP: usize, strayP: usize, floats: i32): void {
  const s8 = size & ~7
  let e = 0
  for (; e < s8; e += 8) {
    const at = <usize>e << 2
    const d = v128.or(v128.xor(ld(aP + at), ld(bP + at)), v128.xor(ld(aP + at + 16), ld(bP + at + 16)))
    if (!v128.any_true(d)) continue
    for (let k = e; k < e + 8; k++) markIfStray(k, aP, bP, inner, n, okP, strayP, floats)
  }
  for (; e < size; e++) markIfStray(e, aP, bP, inner, n, okP, strayP, floats)
}
