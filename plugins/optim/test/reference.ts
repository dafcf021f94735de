/**
 * Plain-JS (float64) reference implementations of the optimizers, element by element, written
 * from the papers / PyTorch docs rather than from the TF.js code under test.
 */

/** One parameter as flat values plus its rank (for the weight-decay mask). */
export interface RefParam {
  values: Array<number>
  readonly rank: number
}

/** Adam / AdamW reference (PyTorch AdamW semantics: p -= lr * (m̂/(sqrt(v̂)+eps) + wd*p)). */
export const refAdam = (options: { lr: (t: number) => number; b1: number; b2: number; eps: number; wd?: number; decayRank1?: boolean }) => {
  const m = new Map<string, Array<number>>()
  const v = new Map<string, Array<number>>()
  let t = 0
  return (params: Record<string, RefParam>, grads: Record<string, Array<number>>) => {
    const lr = options.lr(t)
    t++
    for (const [name, p] of Object.entries(params)) {
      const g = grads[name]!
      const mm = m.get(name) ?? g.map(() => 0)
      const vv = v.get(name) ?? g.map(() => 0)
      const decay = (options.wd ?? 0) > 0 && (p.rank >= 2 || options.decayRank1 === true) ? options.wd! : 0
      p.values = p.values.map((x, i) => {
        mm[i] = options.b1 * mm[i]! + (1 - options.b1) * g[i]!
        vv[i] = options.b2 * vv[i]! + (1 - options.b2) * g[i]! ** 2
        const mhat = mm[i]! / (1 - options.b1 ** t)
        const vhat = vv[i]! / (1 - options.b2 ** t)
        return x - lr * (mhat / (Math.sqrt(vhat) + options.eps) + decay * x)
      })
      m.set(name, mm)
      v.set(name, vv)
    }
  }
}

/** SGD with momentum reference (PyTorch, dampening 0): buf = mu*buf + g; p -= lr * (nesterov ? g + mu*buf : buf). */
export const refSgd = (options: { lr: (t: number) => number; momentum: number; nesterov: boolean }) => {
  const buf = new Map<string, Array<number>>()
  let t = 0
  return (params: Record<string, RefParam>, grads: Record<string, Array<number>>) => {
    const lr = options.lr(t)
    t++
    for (const [name, p] of Object.entries(params)) {
      const g = grads[name]!
      const b = buf.get(name) ?? g.map(() => 0)
      p.values = p.values.map((x, i) => {
        b[i] = options.momentum * b[i]! + g[i]!
        const d = options.nesterov ? g[i]! + options.momentum * b[i]! : b[i]!
        return x - lr * d
      })
      buf.set(name, b)
    }
  }
}
