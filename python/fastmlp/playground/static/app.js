"use strict";
// The playground page: reads the settings, asks the server (the real fastmlp engine) to
// train or step, and draws what /api/state reports. No library, no network beyond the server.

const COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"];
const ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "identity", "elu"];
const $ = (id) => document.getElementById(id);
let presets = {};
let data = null;
let state = null;
let shownVersion = -1;

async function api(path, body) {
  const options = body === undefined ? {} :
    { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  const response = await fetch(path, options);
  const payload = await response.json();
  if (!response.ok) throw new Error(payload.error || response.statusText);
  return payload;
}

function showError(error) {
  $("error").hidden = !error;
  $("error").textContent = error ? String(error.message || error) : "";
}

function addLayerRow(units = 4, activation = "tanh") {
  const row = document.createElement("div");
  row.className = "layer";
  const options = ACTIVATIONS.map((a) => `<option${a === activation ? " selected" : ""}>${a}</option>`).join("");
  row.innerHTML = `<span>hidden</span><input class="units" type="number" min="1" max="32" value="${units}">` +
    `<select class="activation">${options}</select><button type="button" class="remove" title="remove">×</button>`;
  row.querySelector(".remove").onclick = () => row.remove();
  $("layers").appendChild(row);
}

function fillSettings(settings) {
  for (const key of ["dataset", "n_samples", "noise", "validation_fraction", "learning_rate", "optimizer",
                     "batch_size", "seed"]) {
    if (settings[key] !== undefined) $(key).value = settings[key];
  }
  $("csv-row").hidden = $("dataset").value !== "csv";
  $("layers").innerHTML = "";
  for (const layer of settings.layers || []) addLayerRow(layer.units, layer.activation);
}

async function readSettings() {
  const number = (id) => Number($(id).value);
  const settings = {
    dataset: $("dataset").value, n_samples: number("n_samples"), noise: number("noise"),
    validation_fraction: number("validation_fraction"), learning_rate: number("learning_rate"),
    optimizer: $("optimizer").value, batch_size: number("batch_size"), seed: number("seed"),
    layers: [...document.querySelectorAll(".layer")].map((row) => ({
      units: Number(row.querySelector(".units").value), activation: row.querySelector(".activation").value })),
  };
  if (settings.dataset === "csv") {
    const file = $("csv").files[0];
    if (!file) throw new Error("choose a CSV file first (a header row, two feature columns, a label column)");
    settings.csv = await file.text();
  }
  return settings;
}

async function apply(preset) {
  try {
    const settings = await readSettings();
    if (preset) settings.preset = preset;
    data = await api("/api/configure", settings);
    $("step-panel").hidden = true;
    showError(null);
    await refresh();
  } catch (error) { showError(error); }
}

function toCanvas(canvas, extent, x) {
  return [(x[0] - extent[0]) / (extent[1] - extent[0]) * canvas.width,
          (extent[3] - x[1]) / (extent[3] - extent[2]) * canvas.height];
}

function rgb(hex) { return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)); }

function drawBoundary() {
  const canvas = $("boundary"), context = canvas.getContext("2d");
  const b = state.boundary, size = b.size, k = b.classes;
  const image = context.createImageData(size, size), colors = COLORS.map(rgb);
  for (let pixel = 0; pixel < size * size; pixel++) {
    let mixed = [0, 0, 0], top = 0;
    for (let c = 0; c < k; c++) {
      const p = b.probabilities[pixel * k + c];
      top = Math.max(top, p);
      for (let i = 0; i < 3; i++) mixed[i] += p * colors[c][i];
    }
    const strength = 0.25 + 0.45 * (top - 1 / k) / (1 - 1 / k);    // paler where unsure
    for (let i = 0; i < 3; i++) image.data[4 * pixel + i] = 255 * (1 - strength) + mixed[i] * strength;
    image.data[4 * pixel + 3] = 255;
  }
  const small = document.createElement("canvas");
  small.width = small.height = size;
  small.getContext("2d").putImageData(image, 0, 0);
  context.imageSmoothingEnabled = true;
  context.drawImage(small, 0, 0, canvas.width, canvas.height);
  if (!data) return;
  for (const [points, filled] of [[data.train, true], [data.validation, false]]) {
    points.x.forEach((x, i) => {
      const [px, py] = toCanvas(canvas, b.extent, x);
      context.beginPath();
      context.arc(px, py, 3.2, 0, 2 * Math.PI);
      context.fillStyle = COLORS[points.label[i]];
      context.strokeStyle = filled ? "#000" : COLORS[points.label[i]];
      context.lineWidth = filled ? 0.6 : 1.6;
      if (filled) context.fill();
      context.stroke();
    });
  }
  canvas.dataset.version = String(state.version);
}

function drawChart(canvas, series, { log = false } = {}) {
  const context = canvas.getContext("2d"), w = canvas.width, h = canvas.height, pad = 34;
  context.clearRect(0, 0, w, h);
  const values = series.flatMap((s) => s.values).filter((v) => Number.isFinite(v) && (!log || v > 0));
  context.strokeStyle = "#999";
  context.strokeRect(pad, 6, w - pad - 6, h - pad);
  if (values.length === 0) return;
  const f = log ? Math.log10 : (v) => v;
  let low = Math.min(...values.map(f)), high = Math.max(...values.map(f));
  if (high - low < 1e-9) { low -= 0.5; high += 0.5; }
  const n = Math.max(...series.map((s) => s.values.length));
  const X = (i) => pad + (n > 1 ? i / (n - 1) : 0.5) * (w - pad - 6);
  const Y = (v) => 6 + (high - f(v)) / (high - low) * (h - pad);
  context.fillStyle = "#333";
  context.font = "10px sans-serif";
  context.fillText(log ? `1e${high.toFixed(1)}` : high.toPrecision(3), 2, 14);
  context.fillText(log ? `1e${low.toFixed(1)}` : low.toPrecision(3), 2, h - pad + 4);
  context.fillText(`epoch ${n}`, w - 60, h - 8);
  for (const s of series) {
    context.beginPath();
    context.setLineDash(s.dashed ? [5, 3] : []);
    context.strokeStyle = s.color;
    context.lineWidth = 1.5;
    let started = false;
    s.values.forEach((v, i) => {
      if (!Number.isFinite(v) || (log && v <= 0)) { started = false; return; }
      if (started) context.lineTo(X(i), Y(v)); else context.moveTo(X(i), Y(v));
      started = true;
    });
    context.stroke();
  }
  context.setLineDash([]);
}

function drawCharts() {
  const history = state.history;
  drawChart($("loss-chart"), [{ values: history.loss, color: COLORS[0] },
                              { values: history.val_loss, color: COLORS[1], dashed: true }]);
  $("loss-chart").dataset.loss = JSON.stringify(history.loss);
  $("loss-chart").dataset.valLoss = JSON.stringify(history.val_loss);
  const layers = state.layers.length;
  const series = [...Array(layers).keys()].map((l) => ({
    values: state.grad_norm.map((epoch) => epoch[l]), color: shade(l, layers) }));
  drawChart($("grad-chart"), series, { log: true });
  $("grad-legend").innerHTML = state.layers.map((name, l) =>
    `<span style="color:${shade(l, layers)}">■</span> layer ${l + 1} (${name})`).join(" &nbsp; ");
}

function shade(index, count) {             // dark blue (next to the input) to green (the output)
  const t = count > 1 ? index / (count - 1) : 0;
  return `rgb(${Math.round(20 + 10 * t)}, ${Math.round(60 + 120 * t)}, ${Math.round(140 - 40 * t)})`;
}

function matrix(name, values, note = "") {
  const rows = Array.isArray(values[0]) ? values : [values];
  const body = rows.map((row) => "<tr>" + row.map((v) => `<td>${Number(v).toPrecision(4)}</td>`).join("") +
    "</tr>").join("");
  const id = "step-" + name.replace(/[\[\]]/g, (c) => (c === "[" ? "-" : ""));
  return `<table class="matrix" id="${id}" data-matrix='${JSON.stringify(values)}'>` +
    `<caption>${name} ${note}</caption>${body}</table>`;
}

function renderStep(report) {
  window.lastStep = report;                 // the whole report, for whoever inspects the page
  const rows = report.shown_rows, m = report.batch_size, L = report.layers.length;
  const rule = report.optimizer === "sgd" ? `W ← W − ${report.learning_rate}·dW, b ← b − ${report.learning_rate}·db`
    : `Adam with lr = ${report.learning_rate}`;
  $("step-summary").textContent = `Step ${report.step} on a mini-batch of m = ${m} samples; loss ` +
    `${report.loss.toPrecision(5)} (${report.loss_name}) before the update, then ${rule}. Layers count from 1 ` +
    `and A[0] = X; Z, A and dZ show their first ${rows} of ${m} rows.`;
  const parts = [`<div class="matrices">${matrix("A[0]", report.X, "= X")}${matrix("Y", report.Y, "(targets)")}</div>`];
  for (const layer of report.layers) {
    const l = layer.l;
    const delta = l === L ? `dZ[${l}] = (P − Y)/m (fused with the loss)` :
      `dZ[${l}] = dA[${l}] ⊙ f'(Z[${l}]),  dA[${l}] = dZ[${l + 1}]·W[${l + 1}]ᵀ`;
    parts.push(`<div class="step-layer"><h3>Layer ${l}: ${layer.units} ${layer.activation} units</h3>` +
      `<p class="equation">Z[${l}] = A[${l - 1}]·W[${l}] + b[${l}],  A[${l}] = ${layer.activation}(Z[${l}])</p>` +
      `<div class="matrices">${matrix(`W[${l}]`, layer.W)}${matrix(`b[${l}]`, layer.b)}` +
      `${matrix(`Z[${l}]`, layer.Z)}${matrix(`A[${l}]`, layer.A)}</div>` +
      `<p class="equation">${delta};  dW[${l}] = A[${l - 1}]ᵀ·dZ[${l}];  db[${l}] = column sums of dZ[${l}]</p>` +
      `<div class="matrices">${matrix(`dZ[${l}]`, layer.dZ)}${matrix(`dW[${l}]`, layer.dW)}` +
      `${matrix(`db[${l}]`, layer.db)}</div></div>`);
  }
  $("step-layers").innerHTML = parts.join("");
  $("step-panel").hidden = false;
}

function render() {
  const h = state.history, last = (a) => (a.length ? a[a.length - 1].toFixed(4) : "–");
  $("status").textContent = `epoch ${state.epoch} · steps ${state.steps} · loss ${last(h.loss)} · ` +
    `validation loss ${last(h.val_loss)} · accuracy ${last(h.accuracy)}`;
  $("train").textContent = state.running ? "Pause" : "Train";
  if (state.error) showError(state.error);
  drawBoundary();
  drawCharts();
  shownVersion = state.version;
}

async function refresh() {
  state = await api("/api/state");
  if (!data || state.version !== shownVersion) {
    if (!data) data = await api("/api/data");
    render();
  }
}

async function poll() {
  try { await refresh(); } catch (error) { showError(error); }
  setTimeout(poll, state && state.running ? 250 : 700);
}

async function start() {
  presets = await api("/api/presets");
  for (const [name, preset] of Object.entries(presets)) {
    const option = document.createElement("option");
    option.value = name;
    option.textContent = preset.title;
    $("preset").appendChild(option);
  }
  $("preset").value = "xor";
  fillSettings(presets.xor.settings);
  $("lesson").textContent = presets.xor.lesson;
  $("preset").onchange = () => {
    const preset = presets[$("preset").value];
    if (!preset) { $("lesson").textContent = ""; return; }
    fillSettings(preset.settings);
    $("lesson").textContent = preset.lesson;
    apply($("preset").value);
  };
  $("dataset").onchange = () => { $("csv-row").hidden = $("dataset").value !== "csv"; };
  $("add-layer").onclick = () => addLayerRow();
  $("apply").onclick = () => { $("preset").value = ""; apply(null); };
  $("train").onclick = async () => {
    try { await api("/api/run", { running: !(state && state.running) }); await refresh(); }
    catch (error) { showError(error); }
  };
  $("step").onclick = async () => {
    try { renderStep(await api("/api/step", {})); await refresh(); } catch (error) { showError(error); }
  };
  data = await api("/api/data");
  poll();
}

start().catch(showError);
