/* rekindle report: renders the embedded report data with Observable Plot (inlined, no network). */
(function () {
  "use strict"
  var data = JSON.parse(document.getElementById("report-data").textContent)
  var app = document.getElementById("app")
  var SMALL = 340
  var WIDE = Math.max(600, Math.min(1120, (document.documentElement.clientWidth || 1180) - 60))

  // ---------------------------------------------------------------------------------------------
  // DOM helpers

  function el(tag, attrs, children) {
    var node = document.createElement(tag)
    if (attrs) for (var k in attrs) if (attrs[k] !== undefined && attrs[k] !== null) node.setAttribute(k, attrs[k])
    ;[].concat(children === undefined ? [] : children).forEach(function (c) {
      node.append(c instanceof Node ? c : document.createTextNode(String(c)))
    })
    return node
  }
  function section(title, note) {
    var s = el("section", {}, [el("h2", {}, title)])
    if (note) s.append(el("p", { class: "note" }, note))
    app.append(s)
    return s
  }
  function empty(parent, text) { parent.append(el("p", { class: "empty" }, text)) }
  function fmt(x, digits) {
    if (x === null || x === undefined || !isFinite(x)) return "–"
    var d = digits === undefined ? 4 : digits
    return Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(2) : x.toFixed(d)
  }
  function pm(m) { return m.mean === null ? "–" : m.std === null || m.std === 0 ? fmt(m.mean) : fmt(m.mean) + " ± " + fmt(m.std) }
  function table(headers, rows, cls) {
    var t = el("table", cls ? { class: cls } : {})
    t.append(el("tr", {}, headers.map(function (h) { return el("th", {}, h) })))
    rows.forEach(function (r) {
      t.append(el("tr", {}, r.map(function (c) { return c instanceof Node ? el("td", { class: "text" }, c) : el("td", {}, c) })))
    })
    return t
  }
  function plot(options) {
    try {
      return Plot.plot(Object.assign({ style: { background: "transparent", fontSize: "11px" } }, options))
    } catch (e) {
      console.error("plot failed", e)
      return el("p", { class: "error" }, "plot failed: " + e.message)
    }
  }
  function panel(title, node) {
    return el("div", { class: "panel" }, [el("h4", {}, title), node])
  }
  function grid(panels, wide) {
    return el("div", { class: wide ? "grid wide" : "grid" }, panels)
  }
  function statusSpan(s) { return el("span", { class: "status-" + s }, s) }
  function unique(xs) { return Array.from(new Set(xs)) }
  function byKey(xs, key) {
    var m = new Map()
    xs.forEach(function (x) { var k = key(x); if (!m.has(k)) m.set(k, []); m.get(k).push(x) })
    return m
  }
  function layerLabel(l) { return l === null || l === undefined ? "all layers" : "layer " + l }

  // ---------------------------------------------------------------------------------------------
  // histogram helpers: bins as density so histograms with different edges compare

  function binsOf(h, extra) {
    var n = h.counts.reduce(function (a, b) { return a + b }, 0) || 1
    return h.counts.map(function (c, b) {
      var x1 = h.edges[b], x2 = h.edges[b + 1], w = x2 - x1 || 1
      return Object.assign({ x1: x1, x2: x2, x: (x1 + x2) / 2, density: c / (n * w), count: c }, extra)
    })
  }
  /** Step outline of a histogram: two points per bin, so lines draw the bins' tops. */
  function outline(h, extra) {
    var out = []
    binsOf(h, extra).forEach(function (b) {
      out.push(Object.assign({}, b, { x: b.x1 }))
      out.push(Object.assign({}, b, { x: b.x2 }))
    })
    return out
  }
  /** The bins of an integer histogram (edges −0.5, 0.5, …) as { value, count }: one per integer. */
  function integerBins(h, extra) {
    return h.counts.map(function (c, b) { return Object.assign({ value: Math.round((h.edges[b] + h.edges[b + 1]) / 2), count: c }, extra) })
  }
  /** Every integer from 0 to the largest value the histograms reach: the categorical axis of counts. */
  function integerDomain(hs) {
    var top = 0
    hs.forEach(function (h) { integerBins(h).forEach(function (b) { top = Math.max(top, b.value) }) })
    var out = []
    for (var v = 0; v <= top; v++) out.push(v)
    return out
  }
  var histogramNotes = {
    magnitude: "Per-neuron magnitude ‖W_in[:,i]‖·‖W_out[i,:]‖ (probe/magnitudes). Each line is the distribution at one step; colour runs from the first probe step (dark) to the last (light).",
    "firing-rate": "Fraction of probe-batch tokens on which each neuron is active (probe/activations).",
    "mean-abs-activation": "Mean |activation| of each neuron on the probe batch (probe/activations).",
    "recycle-count": "How many times each neuron has been recycled so far (probe/recycle-counts)."
  }
  var histogramTitles = {
    magnitude: "Neuron magnitude distribution over training",
    "firing-rate": "Firing-rate distribution over training",
    "mean-abs-activation": "Mean |activation| distribution over training",
    "recycle-count": "Recycle-count distribution over training"
  }

  /** Small multiples, one per layer: every step's histogram of `name` as an outline coloured by step. */
  function histogramEvolution(histograms, name, xLabel) {
    var hs = histograms.filter(function (h) { return h.name === name })
    // integer histograms (recycle counts) read better as neuron counts than as densities
    var counts = name === "recycle-count"
    var layers = unique(hs.map(function (h) { return h.layer })).sort(function (a, b) { return a - b })
    var steps = unique(hs.map(function (h) { return h.step })).sort(function (a, b) { return a - b })
    var color = { type: "linear", scheme: "viridis", domain: [steps[0], steps[steps.length - 1] === steps[0] ? steps[0] + 1 : steps[steps.length - 1]], label: "step" }
    var legendNode
    try {
      legendNode = Plot.legend({ color: color, width: 320 })
    } catch (e) {
      console.error("legend failed", e)
      legendNode = el("p", { class: "error" }, "legend failed: " + e.message)
    }
    var panels = layers.map(function (l) {
      var layerHs = hs.filter(function (h) { return h.layer === l })
      if (counts) {
        // counts are integers: one point per count on a categorical axis (0, 1, 2, …), not bins over −0.5…1.5
        var pts = []
        layerHs.forEach(function (h) { pts = pts.concat(integerBins(h, { step: h.step })) })
        return panel(layerLabel(l), plot({
          width: SMALL, height: 210, marginLeft: 44,
          x: { label: xLabel, type: "point", domain: integerDomain(layerHs), padding: 0.5 }, y: { label: "neurons", grid: true },
          color: color,
          marks: [Plot.line(pts, { x: "value", y: "count", z: "step", stroke: "step", strokeWidth: 1.3 }),
            Plot.dot(pts, { x: "value", y: "count", stroke: "step", r: 2 }), Plot.ruleY([0])]
        }))
      }
      var points = []
      layerHs.forEach(function (h) { points = points.concat(outline(h, { step: h.step })) })
      return panel(layerLabel(l), plot({
        width: SMALL, height: 210, marginLeft: 44,
        x: { label: xLabel }, y: { label: "density", grid: true },
        color: color,
        marks: [Plot.line(points, { x: "x", y: "density", z: "step", stroke: "step", strokeWidth: 1.3 }), Plot.ruleY([0])]
      }))
    })
    return el("div", {}, [el("div", { class: "legend-row" }, [legendNode]), grid(panels)])
  }

  /** One small plot per scalar name: value over steps, one line per layer (or per run). */
  function scalarGrid(scalars, names) {
    return grid(names.map(function (name) {
      var pts = scalars.filter(function (s) { return s.name === name }).map(function (s) { return Object.assign({}, s, { series: layerLabel(s.layer) }) })
      return panel(name, plot({
        width: SMALL, height: 190, marginLeft: 48,
        x: { label: "step", tickFormat: integerTick }, y: { label: null, grid: true },
        color: { legend: true, type: "ordinal", scheme: "tableau10" },
        marks: [Plot.line(pts, { x: "step", y: "value", stroke: "series" }), Plot.dot(pts, { x: "step", y: "value", stroke: "series", r: 1.5 })]
      }))
    }))
  }

  /**
   * Cumulative neurons recycled per layer over the whole run (x from 0 to the run's last step, so a
   * single firing is a step in a line, not a lone dot on a degenerate axis); `recycled` counts the
   * neurons actually recycled (threshold criteria may choose fewer than k).
   */
  function recycleLines(recycles, steps) {
    var cum = [], line = []
    var last = Math.max(steps || 0, recycles.reduce(function (a, r) { return Math.max(a, r.step) }, 0))
    byKey(recycles, function (r) { return r.layer }).forEach(function (rs, layer) {
      var total = 0, series = layerLabel(layer)
      line.push({ step: 0, total: 0, series: series })
      rs.slice().sort(function (a, b) { return a.step - b.step }).forEach(function (r) {
        total += r.recycled
        cum.push({ step: r.step, total: total, recycled: r.recycled, series: series })
        line.push({ step: r.step, total: total, series: series })
      })
      line.push({ step: last, total: total, series: series })
    })
    var top = cum.reduce(function (a, c) { return Math.max(a, c.total) }, 0)
    return plot({
      width: WIDE, height: 240, marginLeft: 56, marginRight: 24,
      x: { label: "step", domain: [0, Math.max(1, last)], tickFormat: integerTick },
      y: { label: "neurons recycled (cumulative)", grid: true, domain: [0, Math.max(1, top) * 1.08], tickFormat: integerTick },
      color: { legend: true, type: "ordinal", scheme: "tableau10" },
      marks: [Plot.line(line, { x: "step", y: "total", stroke: "series", curve: "step-after" }), Plot.dot(cum, { x: "step", y: "total", stroke: "series", r: 3, tip: true }), Plot.ruleY([0])]
    })
  }
  /** Tick labels for integer quantities (steps, neuron counts): no fractional ticks, no "10.000000". */
  function integerTick(x) { return Number.isInteger(x) ? String(x) : "" }

  function pipelineSection(pipeline, title) {
    var s = section(title || "Pipeline", "The resolved pipeline this run was built from (pipeline.json).")
    s.append(el("pre", {}, pipeline === null ? "(no pipeline.json)" : JSON.stringify(pipeline, null, 2)))
  }

  // ---------------------------------------------------------------------------------------------
  // a run

  function lossPlot(run) {
    var pts = run.train.map(function (t) { return { step: t.step, loss: t.loss, series: "train" } })
      .concat(run.eval.map(function (e) { return { step: e.step, loss: e.loss, series: "eval" } }))
    var recycleSteps = unique(run.recycles.map(function (r) { return r.step }))
    return plot({
      width: WIDE, height: 300, marginLeft: 50,
      x: { label: "step", tickFormat: integerTick }, y: { label: "loss", grid: true },
      color: { legend: true, domain: ["train", "eval"], range: ["#4c78a8", "#f58518"] },
      marks: [
        Plot.ruleX(recycleSteps, { stroke: "#c0392b", strokeOpacity: 0.25, strokeDasharray: "3,3" }),
        Plot.line(pts, { x: "step", y: "loss", stroke: "series" }),
        Plot.dot(pts.filter(function (p) { return p.series === "eval" }), { x: "step", y: "loss", stroke: "series", r: 3, tip: true })
      ]
    })
  }

  function renderRun(run) {
    document.title = "rekindle: " + run.name
    app.append(el("header", {}, [
      el("h1", {}, "Run " + run.name),
      el("div", { class: "sub" }, ["folder " + run.folder + " · ", statusSpan(run.status)])
    ]))
    app.append(table(["", ""], [
      ["status", statusSpan(run.status)],
      ["seed", run.seed === null ? "–" : String(run.seed)],
      ["steps", run.steps === null ? "–" : String(run.steps)],
      ["parameters", run.parameters === null ? "–" : (run.parameters / 1e6).toFixed(2) + "M"],
      ["backend", run.backend || "–"],
      ["started", run.startedAt || "–"],
      ["final eval loss", fmt(run.finalEvalLoss)],
      ["train loss (last 10%)", fmt(run.tailLoss)]
    ].concat(run.error ? [["error", el("span", { class: "error" }, run.error)]] : []), "meta"))

    var s = section("Loss", "Training loss (mean over each logging window) and held-out eval loss. Dashed red rules mark recycling steps.")
    if (run.train.length + run.eval.length === 0) empty(s, "No losses recorded yet.")
    else s.append(lossPlot(run))

    var names = unique(run.histograms.map(function (h) { return h.name }))
    var order = ["magnitude", "recycle-count", "firing-rate", "mean-abs-activation"]
    names.sort(function (a, b) { return (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99) || (a < b ? -1 : 1) })
    if (names.indexOf("magnitude") < 0) {
      var m = section("Neuron magnitude distribution over training")
      empty(m, "No magnitude histograms: add { use: \"probe/magnitudes\" } to the pipeline's probes.")
    }
    names.forEach(function (name) {
      var sec = section(histogramTitles[name] || name + " distribution over training", histogramNotes[name])
      sec.append(histogramEvolution(run.histograms, name, name))
    })

    var r = section("Recycling", "Neurons recycled per FF layer, cumulative over steps, and how often each neuron was recycled by the end (lineage).")
    if (run.recycles.length === 0) empty(r, "No recycling events in this run.")
    else {
      r.append(recycleLines(run.recycles, run.steps))
      if (run.recycleCounts.length > 0) {
        r.append(el("h3", {}, "Recycle count per neuron at step " + run.recycleCounts[0].step))
        r.append(grid(run.recycleCounts.map(function (h) {
          return panel(layerLabel(h.layer), plot({
            width: SMALL, height: 180, marginLeft: 48,
            x: { label: "times recycled", type: "band", domain: integerDomain([h]) }, y: { label: "neurons", grid: true },
            marks: [Plot.barY(integerBins(h), { x: "value", y: "count", fill: "#4c78a8", tip: true }), Plot.ruleY([0])]
          }))
        })))
      }
    }

    if (run.scatters.length > 0) {
      var sc = section("Magnitude vs firing rate", "Each dot is one neuron at the last probe step; r is Pearson's correlation over all neurons of the layer.")
      sc.append(grid(run.scatters.map(function (d) {
        var pts = d.x.map(function (x, i) { return { x: x, y: d.y[i] } })
        return panel(layerLabel(d.layer) + " · step " + d.step + " · r = " + fmt(d.pearson, 3), plot({
          width: SMALL, height: 220, marginLeft: 44,
          x: { label: "magnitude" }, y: { label: "firing rate", grid: true, domain: [0, 1] },
          marks: [Plot.dot(pts, { x: "x", y: "y", r: 1.6, fill: "#4c78a8", fillOpacity: 0.5 })]
        }))
      })))
    }

    var scalarNames = unique(run.scalars.map(function (x) { return x.name }))
    if (scalarNames.length > 0) {
      var ps = section("Probe scalars", "Every scalar the probes reported, per layer.")
      ps.append(scalarGrid(run.scalars, scalarNames))
    }

    var c = section("Comparison", "The numbers `rekindle compare` reports for this run.")
    c.append(table(["run", "seed", "status", "steps", "final eval loss", "train loss (last 10%)"], [
      [run.name, run.seed === null ? "–" : String(run.seed), statusSpan(run.status), run.steps === null ? "–" : String(run.steps), fmt(run.finalEvalLoss), fmt(run.tailLoss)]
    ]))
    pipelineSection(run.pipeline)
  }

  // ---------------------------------------------------------------------------------------------
  // a study

  function variantRuns(study) {
    return study.variants.filter(function (v) { return v.run !== null }).map(function (v) {
      return { name: v.name, seed: v.seed, folder: v.folder, run: v.run, id: v.folder }
    })
  }

  function renderStudy(study) {
    document.title = "rekindle study: " + study.name
    var runs = variantRuns(study)
    var names = unique(study.variants.map(function (v) { return v.name }))
    var color = { legend: true, type: "ordinal", scheme: "tableau10", domain: names }
    app.append(el("header", {}, [
      el("h1", {}, "Study " + study.name),
      el("div", { class: "sub" }, study.variants.length + " runs, " + names.length + " variants" + (study.file ? " · " + study.file : ""))
    ]))

    var t = section("Comparison", "Final eval loss and mean train loss over the last 10% of steps, mean ± sample std over seeds.")
    t.append(table(["variant", "seeds", "final eval loss", "train loss (last 10%)"], study.groups.map(function (g) {
      return [g.name, String(g.seeds), pm(g.finalEvalLoss), pm(g.tailLoss)]
    })))
    t.append(el("h3", {}, "Runs"))
    t.append(table(["run", "seed", "swept values", "status", "final eval loss", "train loss (last 10%)", "report"], study.variants.map(function (v) {
      var tags = Object.keys(v.tags).filter(function (k) { return k !== "seed" }).map(function (k) { return k + "=" + JSON.stringify(v.tags[k]) }).join(", ")
      return [v.name, v.seed === null ? "–" : String(v.seed), el("span", {}, tags || "–"), v.run ? statusSpan(v.run.status) : statusSpan("unknown"),
        fmt(v.run ? v.run.finalEvalLoss : null), fmt(v.run ? v.run.tailLoss : null), el("a", { href: v.folder + "/report.html" }, "report")]
    })))

    var l = section("Loss curves", "Every run of every variant overlaid (one colour per variant; seeds share it).")
    var train = [], evals = []
    runs.forEach(function (r) {
      r.run.train.forEach(function (p) { train.push({ step: p.step, loss: p.loss, name: r.name, id: r.id }) })
      r.run.eval.forEach(function (p) { evals.push({ step: p.step, loss: p.loss, name: r.name, id: r.id }) })
    })
    l.append(grid([
      panel("train loss", plot({ width: 540, height: 300, marginLeft: 50, x: { label: "step" }, y: { label: "loss", grid: true }, color: color,
        marks: [Plot.line(train, { x: "step", y: "loss", stroke: "name", z: "id", strokeOpacity: 0.85 })] })),
      panel("eval loss", plot({ width: 540, height: 300, marginLeft: 50, x: { label: "step" }, y: { label: "loss", grid: true }, color: color,
        marks: [Plot.line(evals, { x: "step", y: "loss", stroke: "name", z: "id" }), Plot.dot(evals, { x: "step", y: "loss", stroke: "name", r: 2.5, tip: true })] }))
    ], true))

    // magnitude distributions: final histogram of each run, per layer, variants overlaid; then side by side
    var mags = []
    runs.forEach(function (r) {
      r.run.histograms.forEach(function (h) { if (h.name === "magnitude") mags.push(Object.assign({}, h, { runName: r.name, id: r.id })) })
    })
    var m = section("Neuron magnitude distributions", "Final magnitude histogram (probe/magnitudes at the last probe step) of every run, per FF layer; the grey outline is the first probe step.")
    if (mags.length === 0) empty(m, "No magnitude histograms in these runs: add { use: \"probe/magnitudes\" } to the pipeline's probes.")
    else {
      var lastOf = new Map(), firstOf = new Map()
      mags.forEach(function (h) {
        var k = h.id + "/" + h.layer
        if (!lastOf.has(k) || lastOf.get(k).step < h.step) lastOf.set(k, h)
        if (!firstOf.has(k) || firstOf.get(k).step > h.step) firstOf.set(k, h)
      })
      var layers = unique(mags.map(function (h) { return h.layer })).sort(function (a, b) { return a - b })
      m.append(el("h3", {}, "Variants overlaid"))
      m.append(grid(layers.map(function (layer) {
        var pts = []
        lastOf.forEach(function (h) { if (h.layer === layer) pts = pts.concat(outline(h, { name: h.runName, id: h.id })) })
        return panel(layerLabel(layer), plot({ width: SMALL, height: 220, marginLeft: 44, x: { label: "magnitude" }, y: { label: "density", grid: true }, color: color,
          marks: [Plot.line(pts, { x: "x", y: "density", stroke: "name", z: "id", strokeWidth: 1.4 }), Plot.ruleY([0])] }))
      })))
      m.append(el("h3", {}, "Side by side (rows: layers, columns: variants)"))
      var cells = []
      layers.forEach(function (layer) {
        names.forEach(function (name) {
          var pts = [], first = []
          lastOf.forEach(function (h) { if (h.layer === layer && h.runName === name) pts = pts.concat(binsOf(h, { id: h.id })) })
          firstOf.forEach(function (h) { if (h.layer === layer && h.runName === name) first = first.concat(outline(h, { id: h.id })) })
          cells.push(panel(name + " · " + layerLabel(layer), plot({ width: 300, height: 170, marginLeft: 44, x: { label: "magnitude" }, y: { label: "density", grid: true },
            marks: [Plot.rectY(pts, { x1: "x1", x2: "x2", y: "density", fill: "#4c78a8", fillOpacity: 0.55 }), Plot.line(first, { x: "x", y: "density", z: "id", stroke: "#888", strokeDasharray: "3,2" }), Plot.ruleY([0])] })))
        })
      })
      var sbs = el("div", { class: "grid", style: "grid-template-columns: repeat(" + names.length + ", minmax(220px, 1fr))" }, cells)
      m.append(sbs)
      var means = []
      runs.forEach(function (r) { r.run.scalars.forEach(function (s) { if (s.name === "magnitude-mean") means.push(Object.assign({}, s, { name: r.name, id: r.id + "/" + s.layer })) }) })
      if (means.length > 0) {
        m.append(el("h3", {}, "Mean magnitude over training"))
        m.append(grid(layers.map(function (layer) {
          var pts = means.filter(function (p) { return p.layer === layer })
          return panel(layerLabel(layer), plot({ width: SMALL, height: 200, marginLeft: 50, x: { label: "step" }, y: { label: "mean magnitude", grid: true }, color: color,
            marks: [Plot.line(pts, { x: "step", y: "value", stroke: "name", z: "id" })] }))
        })))
      }
    }

    var rec = section("Recycling", "Neurons recycled per run (all layers and stages).")
    var totals = runs.map(function (r) { return { name: r.name, id: r.id, total: r.run.recycles.reduce(function (a, x) { return a + x.recycled }, 0) } })
    if (totals.every(function (x) { return x.total === 0 })) empty(rec, "No recycling events in these runs.")
    else rec.append(plot({ width: WIDE, height: 60 + 26 * totals.length, marginLeft: 260, x: { label: "neurons recycled", grid: true }, y: { label: null }, color: color,
      marks: [Plot.barX(totals, { y: "id", x: "total", fill: "name", tip: true }), Plot.ruleX([0])] }))

    var other = ["dead-fraction", "firing-rate-mean", "magnitude-vs-firing-rate-pearson", "recycled-fraction"]
    var present = other.filter(function (n) { return runs.some(function (r) { return r.run.scalars.some(function (s) { return s.name === n }) }) })
    if (present.length > 0) {
      var a = section("Probe scalars by variant", "Per FF layer averaged over layers, one line per run.")
      a.append(grid(present.map(function (n) {
        var pts = []
        runs.forEach(function (r) {
          byKey(r.run.scalars.filter(function (s) { return s.name === n }), function (s) { return s.step }).forEach(function (ss, step) {
            pts.push({ step: step, value: ss.reduce(function (x, s) { return x + s.value }, 0) / ss.length, name: r.name, id: r.id })
          })
        })
        return panel(n, plot({ width: SMALL, height: 200, marginLeft: 50, x: { label: "step" }, y: { label: null, grid: true }, color: color,
          marks: [Plot.line(pts, { x: "step", y: "value", stroke: "name", z: "id" })] }))
      })))
    }
    if (runs.length > 0) pipelineSection(runs[0].run.pipeline, "Pipeline of " + runs[0].name + " (seed " + runs[0].seed + ")")
  }

  // ---------------------------------------------------------------------------------------------
  // magnitudes of a checkpoint

  function renderMagnitudes(d) {
    document.title = "rekindle magnitudes: " + d.file
    app.append(el("header", {}, [
      el("h1", {}, "FF neuron magnitudes"),
      el("div", { class: "sub" }, d.file + " · arch " + d.arch + " · " + d.layers.length + " FF layers")
    ]))
    var s = section("Per layer", "M_i = ‖W_in[:, i]‖₂ · ‖W_out[i, :]‖₂ for every FF neuron; near zero = below 1% of the layer's median.")
    s.append(table(["layer", "dModel", "dFF", "dtype", "mean", "std", "min", "p5", "median", "p95", "max", "near zero"], d.layers.map(function (l) {
      var h = l.histogram
      return [l.label, String(l.dModel), String(l.dFF), l.dtype, fmt(h.mean), fmt(h.std), fmt(h.min), fmt(l.quantiles[0]), fmt(l.quantiles[2]), fmt(l.quantiles[4]), fmt(h.max), String(l.nearZero)]
    })))
    var depth = []
    d.layers.forEach(function (l) {
      depth.push({ layer: l.index, value: l.quantiles[0], series: "p5" })
      depth.push({ layer: l.index, value: l.quantiles[2], series: "median" })
      depth.push({ layer: l.index, value: l.quantiles[4], series: "p95" })
      depth.push({ layer: l.index, value: l.histogram.mean, series: "mean" })
    })
    var dsec = section("Across depth", "Magnitude quantiles by layer (in the order above).")
    dsec.append(plot({ width: WIDE, height: 260, marginLeft: 56, x: { label: "layer", ticks: d.layers.map(function (l) { return l.index }), tickFormat: function (i) { return d.layers[i] ? d.layers[i].label : "" } },
      y: { label: "magnitude", grid: true }, color: { legend: true, type: "ordinal", scheme: "tableau10" },
      marks: [Plot.line(depth, { x: "layer", y: "value", stroke: "series" }), Plot.dot(depth, { x: "layer", y: "value", stroke: "series", r: 2.5, tip: true })] }))
    var hsec = section("Histograms", d.bins + " bins per layer over that layer's range.")
    hsec.append(grid(d.layers.map(function (l) {
      return panel(l.label + " (dFF " + l.dFF + ")", plot({ width: SMALL, height: 190, marginLeft: 48, x: { label: "magnitude" }, y: { label: "neurons", grid: true },
        marks: [Plot.rectY(binsOf(l.histogram), { x1: "x1", x2: "x2", y: "count", fill: "#4c78a8", inset: 0.3 }), Plot.ruleY([0])] }))
    })))
  }

  // ---------------------------------------------------------------------------------------------
  // a page of charts (the replication page): the text is in the page already, each
  // <div data-charts="KEY"> gets the charts of data.charts[KEY]

  /** Curves over steps, one per series coloured by group, with dashed rules at the event steps. */
  function linesChart(c) {
    var pts = []
    c.series.forEach(function (s) { s.points.forEach(function (p) { pts.push({ step: p.step, value: p.value, group: s.group, id: s.id }) }) })
    if (pts.length === 0) return el("p", { class: "empty" }, "no data")
    return plot({
      width: WIDE, height: 300, marginLeft: 56,
      x: { label: "step", tickFormat: integerTick }, y: { label: c.yLabel, grid: true },
      color: { legend: true, type: "ordinal", scheme: "tableau10", domain: unique(c.series.map(function (s) { return s.group })) },
      marks: [
        Plot.ruleX(c.events, { stroke: "#c0392b", strokeOpacity: 0.3, strokeDasharray: "3,3" }),
        Plot.line(pts, { x: "step", y: "value", stroke: "group", z: "id", strokeOpacity: 0.85 })
      ]
    })
  }
  /** Integer histograms, one panel per layer, one line per group (neurons per count). */
  function countsChart(c) {
    var layers = unique(c.counts.map(function (h) { return h.layer })).sort(function (a, b) { return a - b })
    return grid(layers.map(function (layer) {
      var hs = c.counts.filter(function (h) { return h.layer === layer })
      var pts = []
      hs.forEach(function (h) { pts = pts.concat(integerBins(h, { group: h.group })) })
      return panel(layerLabel(layer), plot({
        width: SMALL, height: 210, marginLeft: 44,
        x: { label: c.xLabel, type: "point", domain: integerDomain(hs), padding: 0.5 }, y: { label: "neurons", grid: true, type: "symlog" },
        color: { legend: true, type: "ordinal", scheme: "tableau10", domain: unique(c.counts.map(function (h) { return h.group })) },
        marks: [Plot.line(pts, { x: "value", y: "count", stroke: "group" }), Plot.dot(pts, { x: "value", y: "count", stroke: "group", r: 2.5, tip: true })]
      }))
    }))
  }
  function renderCharts(d) {
    document.title = d.title
    Array.prototype.forEach.call(document.querySelectorAll("[data-charts]"), function (node) {
      ;(d.charts[node.getAttribute("data-charts")] || []).forEach(function (c) {
        node.append(el("h3", {}, c.title))
        if (c.type === "histograms") node.append(histogramEvolution(c.histograms, c.name, c.name))
        else if (c.type === "lines") node.append(linesChart(c))
        else if (c.type === "counts") node.append(countsChart(c))
        else node.append(el("p", { class: "error" }, "unknown chart type " + c.type))
      })
    })
  }

  try {
    if (data.kind === "run") renderRun(data)
    else if (data.kind === "study") renderStudy(data)
    else if (data.kind === "magnitudes") renderMagnitudes(data)
    else if (data.kind === "charts") renderCharts(data)
    else throw new Error("unknown report kind " + data.kind)
    document.body.setAttribute("data-rendered", "true")
  } catch (e) {
    console.error("report failed", e)
    app.append(el("p", { class: "error" }, "report failed: " + e.message))
  }
})()
