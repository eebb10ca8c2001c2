// The optviz explorer page's program: decode the data, draw with plotly, wire the sliders,
// keep the state in the URL hash, show the command. window.optviz exposes the state.
"use strict";
(function () {
const D = JSON.parse(document.getElementById("optviz-data").textContent);
const $ = (id) => document.getElementById(id);
const api = { ready: false, data: D };
window.optviz = api;

function decode(o) {
  const s = atob(o.b64), n = s.length, u = new Uint8Array(n);
  for (let i = 0; i < n; i++) u[i] = s.charCodeAt(i);
  const a = o.dtype === "f8" ? new Float64Array(u.buffer) : new Float32Array(u.buffer);
  const out = new Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = Number.isFinite(a[i]) ? a[i] : null;
  return out;
}
function rows(flat, shape) {
  const out = [], w = shape[shape.length - 1];
  for (let i = 0; i < flat.length; i += w) out.push(flat.slice(i, i + w));
  return out;
}
function fmt(v) {
  if (v === null || v === undefined) return "–";
  if (v === 0) return "0";
  const a = Math.abs(v);
  return (a >= 1e-3 && a < 1e4) ? String(Number(v.toPrecision(5))) : v.toExponential(3);
}
function setHash(params, write) {
  const h = "#" + params.map(([k, v]) => k + "=" + v).join("&");
  if (write !== false) {
    try { history.replaceState(null, "", h); } catch (e) { location.hash = h; }
  }
  $("optviz-link").textContent = h;
  $("optviz-link").href = h;
}
function readHash() {
  const out = {};
  for (const part of location.hash.replace(/^#/, "").split("&")) {
    if (!part) continue;
    const i = part.indexOf("=");
    if (i > 0) out[decodeURIComponent(part.slice(0, i))] = decodeURIComponent(part.slice(i + 1));
  }
  return out;
}
function nearest(values, v, log) {
  let best = 0, gap = Infinity;
  values.forEach((x, i) => {
    const d = log ? Math.abs(Math.log(x) - Math.log(v)) : Math.abs(x - v);
    if (d < gap) { gap = d; best = i; }
  });
  return best;
}
function addSlider(label, max, value, onInput, colour) {
  const box = $("optviz-controls");
  const name = document.createElement("label");
  if (colour) {
    const sw = document.createElement("span");
    sw.className = "swatch"; sw.style.background = colour; name.appendChild(sw);
  }
  name.appendChild(document.createTextNode(label));
  const input = document.createElement("input");
  input.type = "range"; input.min = 0; input.max = max; input.step = 1; input.value = value;
  const shown = document.createElement("span");
  shown.className = "value";
  input.addEventListener("input", () => onInput(Number(input.value)));
  box.append(name, input, shown);
  return { input: input, shown: shown };
}
function plotDiv(id) {
  const div = document.createElement("div");
  div.id = id; $("optviz-plots").appendChild(div); return div;
}
function contourTrace(surface) {
  if (surface.curve) {
    return { type: "scatter", mode: "lines", x: decode(surface.xs), y: decode(surface.curve),
             line: { color: "#888", width: 1.5 }, hoverinfo: "skip", uid: "surface",
             name: "f(x)" };
  }
  const z = rows(decode(surface.z), surface.z.shape);
  let zz = z;
  if (surface.log) {
    let lo = Infinity;
    for (const r of z) for (const v of r) if (v !== null && v < lo) lo = v;
    const eps = 1e-12;
    zz = z.map(r => r.map(v => v === null ? null : Math.log10(v - lo + eps)));
  }
  return { type: "contour", x: decode(surface.xs), y: decode(surface.ys), z: zz,
           colorscale: "Viridis", reversescale: false, ncontours: 24, showscale: false,
           opacity: 0.7, contours: { coloring: "fill", showlines: true },
           line: { width: 0.5, color: "rgba(60,60,60,0.35)" }, hoverinfo: "skip", uid: "surface" };
}
function marks(minima, start) {
  const out = [];
  if (minima && minima.length) out.push({ type: "scatter", mode: "markers",
    x: minima.map(m => m[0]), y: minima.map(m => m[1]), name: "minimum", uid: "minima",
    marker: { symbol: "star", size: 16, color: "white", line: { color: "black", width: 1.5 } },
    hovertemplate: "minimum<br>x %{x:.4g}<br>y %{y:.4g}<extra></extra>" });
  if (start && start.length) out.push({ type: "scatter", mode: "markers", x: [start[0]],
    y: [start[1]], name: "start", uid: "start",
    marker: { symbol: "circle-open", size: 11, color: "black", line: { width: 2 } },
    hovertemplate: "start<br>x %{x:.4g}<br>y %{y:.4g}<extra></extra>" });
  return out;
}
const CONFIG = { displaylogo: false, responsive: true };

// ---------------------------------------------------------------- trajectory
function trajectory() {
  const runs = D.runs.map(r => {
    const P = decode(r.points), L = decode(r.loss);
    const n = r.points.shape[1];
    return Object.assign({}, r, { P: P, L: L, n: n });
  });
  const S = Math.max(...runs.map(r => r.n - 1));
  const state = { step: S, lr: runs.map(r => r.initial), playing: null };
  api.state = state;
  function path(r, li) {
    const xs = [], ys = [], cd = [];
    const base = li * r.n;
    for (let k = 0; k < r.n; k++) {
      xs.push(r.P[2 * (base + k)]); ys.push(r.P[2 * (base + k) + 1]);
      cd.push([k, r.L[base + k]]);
    }
    return { x: xs, y: ys, customdata: cd, loss: r.L.slice(base, base + r.n) };
  }
  function head(r, li, step) {
    let k = Math.min(step, r.n - 1);
    const base = li * r.n;
    while (k > 0 && (r.P[2 * (base + k)] === null || r.L[base + k] === null)) k--;
    return { k: k, x: r.P[2 * (base + k)], y: r.P[2 * (base + k) + 1], loss: r.L[base + k] };
  }
  api.path = (i) => { const r = runs[i]; const p = path(r, state.lr[i]);
    return { lr: r.lrs[state.lr[i]], x: p.x, y: p.y, loss: p.loss }; };
  api.head = (i) => head(runs[i], state.lr[i], state.step);
  const hover = (r, li) => "<b>" + r.labels[li].replace(/</g, "&lt;") + "</b><br>lr " +
    r.lrs[li] + "<br>step %{customdata[0]}<br>x %{x:.6g}<br>y %{y:.6g}<br>loss " +
    "%{customdata[1]:.6g}<extra></extra>";
  const pathsDiv = plotDiv("optviz-paths"), lossDiv = plotDiv("optviz-loss");
  const traces = [contourTrace(D.surface), ...marks(D.minima, D.start)];
  const first = traces.length;
  const lossTraces = [];
  runs.forEach((r, i) => {
    const p = path(r, state.lr[i]), h = head(r, state.lr[i], state.step);
    traces.push({ type: "scatter", mode: "lines+markers", x: p.x, y: p.y, customdata: p.customdata,
      name: r.labels[state.lr[i]], uid: "path-" + i, hovertemplate: hover(r, state.lr[i]),
      line: { color: r.colour, width: 2 }, marker: { size: 3, color: r.colour } });
    traces.push({ type: "scatter", mode: "markers", x: [h.x], y: [h.y], uid: "head-" + i,
      showlegend: false, hoverinfo: "skip",
      marker: { size: 12, color: r.colour, line: { color: "white", width: 1.5 } } });
    lossTraces.push({ type: "scatter", mode: "lines", x: [...Array(r.n).keys()], y: p.loss,
      name: r.label, uid: "loss-" + i, line: { color: r.colour, width: 1.8 },
      hovertemplate: "<b>" + r.label.replace(/</g, "&lt;") + "</b><br>step %{x}<br>loss %{y:.6g}<extra></extra>" });
    lossTraces.push({ type: "scatter", mode: "markers", x: [h.k], y: [h.loss], uid: "loss-head-" + i,
      showlegend: false, hoverinfo: "skip", marker: { size: 10, color: r.colour } });
  });
  let positive = true;
  for (const r of runs) for (const v of r.L) if (v !== null && !(v > 0)) positive = false;
  Plotly.newPlot(pathsDiv, traces, {
    margin: { l: 55, r: 10, t: 30, b: 45 }, title: { text: D.formula, font: { size: 13 } },
    xaxis: { title: { text: D.axes[0] }, range: D.view[0], zeroline: false, constrain: "domain" },
    yaxis: D.surface.curve ? { title: { text: D.axes[1] }, zeroline: false }
      : { title: { text: D.axes[1] }, range: D.view[1], zeroline: false,
          scaleanchor: "x", constrain: "domain" },
    legend: { orientation: "h", y: -0.12 }, hovermode: "closest", uirevision: "keep",
  }, CONFIG);
  Plotly.newPlot(lossDiv, lossTraces, {
    margin: { l: 60, r: 10, t: 30, b: 45 }, title: { text: "loss", font: { size: 13 } },
    xaxis: { title: { text: D.step_label }, range: [0, S] },
    yaxis: { title: { text: D.loss_label }, type: positive ? "log" : "linear" },
    showlegend: false, hovermode: "closest", uirevision: "keep",
    shapes: [{ type: "line", xref: "x", yref: "paper", x0: S, x1: S, y0: 0, y1: 1,
               line: { color: "#555", width: 1, dash: "dot" } }],
  }, CONFIG);

  // controls: the step (with play), then the lr (one shared slider, or one per run)
  const play = document.createElement("button");
  play.id = "optviz-play"; play.textContent = "▶ play";
  const stepSlider = addSlider("step", S, S, (v) => setStep(v, true));
  stepSlider.input.id = "optviz-step";
  stepSlider.input.previousSibling.prepend(play, " ");
  const lrSliders = [];
  if (D.shared) {
    const s = addSlider("lr (every run)", runs[0].lrs.length - 1, state.lr[0],
                        (v) => { runs.forEach((r, i) => { state.lr[i] = v; }); redrawLr(true); });
    s.input.id = "optviz-lr"; lrSliders.push(s);
  } else {
    runs.forEach((r, i) => {
      const s = addSlider("lr: " + r.label, r.lrs.length - 1, state.lr[i],
                          (v) => { state.lr[i] = v; redrawLr(true); }, r.colour);
      s.input.id = "optviz-lr-" + (i + 1); lrSliders.push(s);
    });
  }
  function showValues() {
    stepSlider.input.value = state.step;
    stepSlider.shown.textContent = state.step + " / " + S;
    lrSliders.forEach((s, j) => {
      const i = D.shared ? 0 : j;
      s.input.value = state.lr[i];
      const d = runs[i].diverged[state.lr[i]];
      s.shown.textContent = "lr = " + fmt(runs[i].lrs[state.lr[i]]) +
        (d !== null && d !== undefined ? " (diverged at step " + d + ")" : "");
    });
    const tokens = runs.map((r, i) => r.tokens[state.lr[i]]).join(" ");
    $("optviz-command").textContent = [D.command.prefix, tokens, D.command.suffix]
      .filter(Boolean).join(" ");
  }
  function writeHash(write) {
    const params = D.shared ? [["lr", runs[0].lrs[state.lr[0]]]]
      : runs.map((r, i) => ["lr" + (i + 1), r.lrs[state.lr[i]]]);
    params.push(["step", state.step]);
    setHash(params, write);
  }
  // One redraw per plot: the heads (and, when the lr moved, the paths) of every run at once.
  function draw(hash, paths) {
    const hs = runs.map((r, i) => head(r, state.lr[i], state.step));
    const heads = runs.map((r, i) => first + 2 * i + 1), lossHeads = runs.map((r, i) => 2 * i + 1);
    const cursor = { "shapes[0].x0": state.step, "shapes[0].x1": state.step };
    if (paths) {
      const ps = runs.map((r, i) => path(r, state.lr[i]));
      const names = runs.map((r, i) => r.labels[state.lr[i]]);
      Plotly.restyle(pathsDiv, {
        x: [...ps.map(p => p.x), ...hs.map(h => [h.x])],
        y: [...ps.map(p => p.y), ...hs.map(h => [h.y])],
        customdata: [...ps.map(p => p.customdata), ...hs.map(() => null)],
        name: [...names, ...names],
        hovertemplate: [...runs.map((r, i) => hover(r, state.lr[i])), ...hs.map(() => null)],
      }, [...runs.map((r, i) => first + 2 * i), ...heads]);
      Plotly.update(lossDiv, {
        x: [...ps.map(p => [...Array(p.loss.length).keys()]), ...hs.map(h => [h.k])],
        y: [...ps.map(p => p.loss), ...hs.map(h => [h.loss])],
        name: [...names, ...names],
      }, cursor, [...runs.map((r, i) => 2 * i), ...lossHeads]);
    } else {
      Plotly.restyle(pathsDiv, { x: hs.map(h => [h.x]), y: hs.map(h => [h.y]) }, heads);
      Plotly.update(lossDiv, { x: hs.map(h => [h.k]), y: hs.map(h => [h.loss]) }, cursor,
                    lossHeads);
    }
    showValues();
    writeHash(hash);
  }
  function setStep(k, hash) {
    state.step = Math.max(0, Math.min(S, Math.round(k)));
    draw(hash, false);
  }
  function redrawLr(hash) {
    state.step = Math.max(0, Math.min(S, Math.round(state.step)));
    draw(hash, true);
  }
  function applyHash() {
    const h = readHash();
    runs.forEach((r, i) => {
      const v = parseFloat(h["lr" + (i + 1)] !== undefined ? h["lr" + (i + 1)] : h.lr);
      if (v > 0) state.lr[i] = nearest(r.lrs, v, true);
    });
    if (h.step !== undefined && !isNaN(parseInt(h.step))) state.step = parseInt(h.step);
    redrawLr(false);
  }
  api.setStep = (k) => setStep(k, true);
  api.setLr = (i, index) => { if (D.shared) runs.forEach((r, j) => { state.lr[j] = index; });
                              else state.lr[i] = index; redrawLr(true); };
  play.addEventListener("click", () => {
    if (state.playing) { clearInterval(state.playing); state.playing = null;
                         play.textContent = "▶ play"; return; }
    if (state.step >= S) setStep(0, true);
    const stride = Math.max(1, Math.round(S / 150));
    play.textContent = "❚❚ pause";
    state.playing = setInterval(() => {
      if (state.step >= S) { clearInterval(state.playing); state.playing = null;
                             play.textContent = "▶ play"; return; }
      setStep(state.step + stride, true);
    }, 40);
  });
  window.addEventListener("hashchange", applyHash);
  applyHash();
}

// ---------------------------------------------------------------- schedule
function schedule() {
  const scheds = D.schedulers.map(s => Object.assign({}, s, { C: decode(s.curves) }));
  const N = D.steps;
  const many = scheds.length > 1;
  const state = scheds.map(s => s.sliders.map(sl => sl.initial));
  api.state = state;
  function combo(s, i) {
    let c = 0;
    s.sliders.forEach((sl, j) => { c = c * sl.values.length + state[i][j]; });
    return c;
  }
  api.curve = (i) => { const s = scheds[i], c = combo(s, i);
    return { settings: Object.fromEntries(s.sliders.map((sl, j) => [sl.key, sl.values[state[i][j]]])),
             lr: s.C.slice(c * N, (c + 1) * N), error: s.errors[c] }; };
  const div = plotDiv("optviz-schedule");
  const steps = [...Array(N).keys()];
  const traces = scheds.map((s, i) => ({ type: "scatter", mode: "lines", x: steps,
    y: api.curve(i).lr, name: s.label, uid: "schedule-" + i, line: { color: s.colour, width: 2, shape: "hv" },
    hovertemplate: "<b>" + s.label.replace(/</g, "&lt;") + "</b><br>step %{x}<br>lr %{y:.6g}<extra></extra>" }));
  Plotly.newPlot(div, traces, {
    margin: { l: 70, r: 10, t: 30, b: 45 }, hovermode: "closest",
    xaxis: { title: { text: "optimizer step" } },
    yaxis: { title: { text: "learning rate" }, type: D.log_y ? "log" : "linear" },
    legend: { orientation: "h", y: -0.15 },
  }, CONFIG);
  const sliders = [];
  scheds.forEach((s, i) => s.sliders.forEach((sl, j) => {
    const w = addSlider((many ? s.name + ": " : "") + sl.key, sl.values.length - 1, sl.initial,
                        (v) => { state[i][j] = v; redraw(true); }, s.colour);
    w.input.id = "optviz-setting-" + (i + 1) + "-" + sl.key;
    sliders.push([i, j, w]);
  }));
  function key(i, sl) { return (many ? (i + 1) + "." : "") + sl.key; }
  function redraw(hash) {
    Plotly.restyle(div, { y: scheds.map((s, i) => api.curve(i).lr) }, scheds.map((s, i) => i));
    for (const [i, j, w] of sliders) {
      w.input.value = state[i][j];
      w.shown.textContent = String(scheds[i].sliders[j].values[state[i][j]]);
    }
    const errors = scheds.map((s, i) => s.errors[combo(s, i)]).filter(Boolean);
    $("optviz-message").textContent = errors.join("; ");
    $("optviz-command").textContent = [D.command.prefix,
      scheds.map((s, i) => s.tokens[combo(s, i)]).join(" "), D.command.suffix].join(" ");
    setHash(scheds.flatMap((s, i) => s.sliders.map((sl, j) =>
      [key(i, sl), sl.values[state[i][j]]])), hash);
  }
  function applyHash() {
    const h = readHash();
    scheds.forEach((s, i) => s.sliders.forEach((sl, j) => {
      const v = parseFloat(h[key(i, sl)]);
      if (!isNaN(v)) state[i][j] = nearest(sl.values, v, false);
    }));
    redraw(false);
  }
  api.set = (i, name, index) => { const j = scheds[i].sliders.findIndex(sl => sl.key === name);
    state[i][j] = index; redraw(true); };
  window.addEventListener("hashchange", applyHash);
  applyHash();
}

// ---------------------------------------------------------------- sweep
function sweep() {
  const f0 = D.f_min === null ? 0 : D.f_min;
  const gap = (v) => v === null ? null : Math.max(v - f0, 1e-300);
  const ok = D.lr.map((lr, i) => D.tail_loss[i] !== null);
  const cd = D.lr.map((lr, i) => [D.tail_loss[i], D.final_loss[i], D.steps_to_tol[i], D.diverged[i]]);
  const hover = "lr %{x:.6g}<br>worst f of the last " + D.tail + " steps %{customdata[0]:.6g}" +
    "<br>final f %{customdata[1]:.6g}<br>within " + D.tol + " at step %{customdata[2]}<extra></extra>";
  const live = D.lr.map((lr, i) => ok[i] ? i : -1).filter(i => i >= 0);
  const dead = D.lr.map((lr, i) => ok[i] ? -1 : i).filter(i => i >= 0);
  const top = Math.max(...live.map(i => gap(D.tail_loss[i])), 1);
  const traces = [
    { type: "scatter", mode: "lines+markers", x: live.map(i => D.lr[i]), uid: "sweep",
      y: live.map(i => gap(D.tail_loss[i])), customdata: live.map(i => cd[i]), name: D.label,
      line: { color: D.colour }, marker: { size: 5 }, hovertemplate: hover },
    { type: "scatter", mode: "markers", x: dead.map(i => D.lr[i]), y: dead.map(() => top),
      uid: "diverged", name: "diverged", marker: { symbol: "x", size: 8, color: "#c33" },
      customdata: dead.map(i => D.diverged[i]),
      hovertemplate: "lr %{x:.6g}<br>diverged at step %{customdata}<extra></extra>" },
  ];
  if (D.best !== null) traces.push({ type: "scatter", mode: "markers+text", x: [D.lr[D.best]],
    y: [gap(D.tail_loss[D.best])], uid: "best", name: "best lr", text: ["best lr " + fmt(D.lr[D.best])],
    textposition: "top center", customdata: [cd[D.best]], hovertemplate: "<b>best</b><br>" + hover,
    marker: { symbol: "star", size: 16, color: "gold", line: { color: "black", width: 1 } } });
  const div = plotDiv("optviz-sweep"), pd = plotDiv("optviz-paths");
  Plotly.newPlot(div, traces, {
    margin: { l: 70, r: 10, t: 30, b: 45 }, hovermode: "closest",
    xaxis: { title: { text: "learning rate" }, type: "log" },
    yaxis: { title: { text: D.f_min === null ? "worst f of the tail" : "worst f − f* of the tail" },
             type: "log" },
    legend: { orientation: "h", y: -0.15 },
  }, CONFIG);
  const pt = [contourTrace(D.surface), ...marks(D.minima, D.path ? rows(decode(D.path), D.path.shape)[0] : null)];
  if (D.path) {
    const p = rows(decode(D.path), D.path.shape);
    pt.push({ type: "scatter", mode: "lines+markers", x: p.map(q => q[0]), y: p.map(q => q[1]),
      customdata: [...Array(p.length).keys()], uid: "best-path", name: "best lr's path",
      line: { color: D.colour }, marker: { size: 3 },
      hovertemplate: "step %{customdata}<br>x %{x:.6g}<br>y %{y:.6g}<extra></extra>" });
  }
  Plotly.newPlot(pd, pt, { margin: { l: 55, r: 10, t: 30, b: 45 }, hovermode: "closest",
    xaxis: { range: D.view[0], title: { text: "x" }, constrain: "domain" },
    yaxis: { range: D.view[1], title: { text: "y" }, scaleanchor: "x", constrain: "domain" },
    showlegend: false }, CONFIG);
  $("optviz-link-line").style.display = "none";
  $("optviz-command").textContent = "optviz render config.yaml (the config below)";
}

// ---------------------------------------------------------------- basin
function basin() {
  const F = rows(decode(D.final_loss), D.final_loss.shape);
  const f0 = D.f_min === null ? 0 : D.f_min;
  const z = F.map(r => r.map(v => v === null ? null :
    (D.log ? Math.log10(Math.max(v - f0, 1e-12)) : v)));
  const cd = F.map((r, i) => r.map((v, j) => [v, D.steps_to_tol[i][j] >= 0 ? D.steps_to_tol[i][j] : "never",
                                                D.diverged[i][j] > 0 ? "at step " + D.diverged[i][j] : "no"]));
  const div = plotDiv("optviz-basin");
  const traces = [{ type: "heatmap", x: decode(D.xs), y: decode(D.ys), z: z, customdata: cd,
    colorscale: "Viridis", uid: "basin",
    colorbar: { title: { text: D.log ? "log10(final f − f*)" : "final f" } },
    hovertemplate: "start x %{x:.4g}, y %{y:.4g}<br>final loss %{customdata[0]:.6g}" +
      "<br>within " + D.tol + " at step %{customdata[1]}<br>diverged %{customdata[2]}<extra></extra>" },
    ...marks(D.minima, null)];
  Plotly.newPlot(div, traces, { margin: { l: 55, r: 10, t: 30, b: 45 }, hovermode: "closest",
    xaxis: { title: { text: "start x" }, constrain: "domain" },
    yaxis: { title: { text: "start y" }, scaleanchor: "x", constrain: "domain" },
    showlegend: false }, CONFIG);
  api.final = (i, j) => F[i][j];
  $("optviz-link-line").style.display = "none";
  $("optviz-command").textContent = "optviz render config.yaml (the config below)";
}

async function loadPlotly() {
  if (window.Plotly) return;
  const packed = $("optviz-plotly-gz");
  if (!packed) {
    const src = document.querySelector("script[src]");
    throw new Error("plotly.js did not load from " + (src ? src.getAttribute("src") : "?") +
                    " (the gallery keeps one copy at its top)");
  }
  if (typeof DecompressionStream === "undefined") {
    throw new Error("this browser cannot unpack the inlined plotly.js (no DecompressionStream)");
  }
  const s = atob(packed.textContent.trim()), u = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) u[i] = s.charCodeAt(i);
  const stream = new Blob([u]).stream().pipeThrough(new DecompressionStream("gzip"));
  const code = await new Response(stream).text();
  const el = document.createElement("script");
  el.textContent = code;
  document.head.appendChild(el);
}

$("optviz-config").textContent = D.config || "";
loadPlotly().then(() => {
  ({ trajectory: trajectory, schedule: schedule, sweep: sweep, basin: basin })[D.kind]();
  api.ready = true;
}).catch((e) => { $("optviz-message").textContent = "optviz: " + e.message; api.error = String(e); });
})();
