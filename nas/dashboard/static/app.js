// nas dashboard: polls /api/run/<i>/version every second and, when the store changed, refetches
// the run's state and redraws. Every chart is Plotly.js (vendored in static/); no hand-drawn charts.
"use strict";
const POLL_MS = 1000, MAX_ROWS = 500, IMPORTANCE_MS = 15000;
const ui = { runs: [], current: 0, compare: false, versions: {}, states: {}, sort: { key: "reward", dir: -1 },
             selA: null, selB: null, importanceAt: 0, fetchedAt: 0, seen: new Set() };
const $ = (id) => document.getElementById(id);
const fmt = (v, d = 4) => v === null || v === undefined ? "-" : (typeof v === "number" ? (Number.isInteger(v) ? v.toLocaleString() : v.toFixed(d)) : String(v));
const clock = (s) => { if (s === null || s === undefined) return "-"; s = Math.max(0, Math.round(s));
  return `${Math.floor(s / 3600)}:${String(Math.floor(s / 60) % 60).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`; };
const esc = (t) => String(t).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
const getJSON = async (url) => { const r = await fetch(url, { cache: "no-store" }); const j = await r.json();
  if (!r.ok) throw new Error(j.error || r.statusText); return j; };
const LAYOUT = { margin: { l: 50, r: 10, t: 10, b: 40 }, font: { size: 11 }, showlegend: true, legend: { orientation: "h", y: -0.25 } };
const plot = (id, data, layout) => Plotly.react($(id), data, { ...LAYOUT, ...layout }, { displaylogo: false, responsive: true });

async function init() {
  ui.runs = await getJSON("/api/runs");
  const nav = $("runs");
  ui.runs.forEach((r, i) => nav.appendChild(button(r.name, () => select(i, false), `run-${i}`)));
  if (ui.runs.length > 1) nav.appendChild(button("compare runs", () => select(null, true), "run-compare"));
  $("filter").addEventListener("input", renderTable);
  $("view").addEventListener("change", () => showDetail());
  $("cost").addEventListener("change", () => renderPareto(ui.states[ui.current]));
  select(0, false);
  setInterval(poll, POLL_MS);
  setInterval(tick, 1000);
}

function button(text, onclick, id) { const b = document.createElement("button"); b.textContent = text; b.id = id; b.onclick = onclick; return b; }

function select(i, compare) {
  ui.compare = compare; if (!compare) { ui.current = i; ui.selA = ui.selB = null; ui.seen = new Set(); }
  document.querySelectorAll("nav button").forEach((b) => b.classList.toggle("active",
    compare ? b.id === "run-compare" : b.id === `run-${i}`));
  $("compare").hidden = !compare; $("run-view").hidden = compare; $("summary").hidden = compare;
  ui.versions = {}; ui.importanceAt = 0; poll();
}

async function poll() {
  const ids = ui.compare ? ui.runs.map((r) => r.index) : [ui.current];
  for (const i of ids) {
    try {
      const { version } = await getJSON(`/api/run/${i}/version`);
      if (version === ui.versions[i]) continue;
      ui.states[i] = await getJSON(`/api/run/${i}/state`);
      ui.versions[i] = version; ui.fetchedAt = Date.now();
      if (!ui.compare && i === ui.current) render(ui.states[i]);
    } catch (err) { $("summary").innerHTML = `<p class="error">${esc(err.message)}</p>`; }
  }
  if (ui.compare) renderCompare();
  else if (Date.now() - ui.importanceAt > IMPORTANCE_MS) { ui.importanceAt = Date.now(); renderImportance(); }
}

function render(state) {
  renderSummary(state.run); renderBest(state); renderCostOptions(state); renderPareto(state);
  renderParcoords(state); renderTable();
  if (ui.selA !== null) refreshCurve();
}

function renderSummary(run) {
  const c = run.counts, pct = Math.min(100, 100 * run.finished / run.budget);
  const running = Object.entries(run.running_epochs || {}).map(([id, e]) =>
    `trial ${id} epoch ${e}${run.epochs_per_trial ? "/" + run.epochs_per_trial : ""}`).join(", ");
  $("summary").innerHTML = `<h2>${esc(run.name)} <small>${esc(run.path)}</small></h2>
    <div class="stats">
      <div class="stat">status<b id="status" class="status-${run.status.split(" ")[0]}">${esc(run.status)}</b></div>
      <div class="stat">finished<b id="finished">${run.finished} / ${run.budget}</b></div>
      <div class="stat">ok / stopped / failed / running<b>${c.done} / ${c.stopped} / ${c.failed} / ${c.running}</b></div>
      <div class="stat">best ${esc(run.metric)}<b id="best">${fmt(run.best && run.best.reward)}</b></div>
      <div class="stat">elapsed<b id="elapsed">${clock(run.elapsed_s)}</b></div>
      <div class="stat">ETA<b id="eta">${run.eta_s === null ? "-" : clock(run.eta_s)}</b></div>
      <div class="stat">space / strategy<b>${esc(run.space)} / ${esc(run.strategy)}</b></div>
    </div><progress max="100" value="${pct}"></progress>
    <p class="hint" id="running-epochs">${running ? "running: " + esc(running) : ""}</p>`;
}

function tick() {  // the clock moves between store changes while a driver runs
  const s = ui.states[ui.current]; if (ui.compare || !s || !s.run.status.startsWith("running")) return;
  const since = (Date.now() - ui.fetchedAt) / 1000;
  if ($("elapsed")) $("elapsed").textContent = clock(s.run.elapsed_s + since);
  if ($("eta") && s.run.eta_s !== null) $("eta").textContent = clock(s.run.eta_s - since);
}

function renderBest(state) {
  const pts = state.best_curve.filter((p) => p[2] !== null), byId = new Map(state.trials.map((t) => [t.seq, t]));
  const scored = state.trials.filter((t) => t.reward !== null && t.status !== "failed" && t.finished_s !== null)
    .sort((a, b) => a.finished_s - b.finished_s);
  const order = state.best_curve.map((p, k) => [k + 1, p]), pos = new Map(order.map(([k, p]) => [p[0], k]));
  plot("plot-best-trials", [
    { x: scored.map((t) => pos.get(t.seq)), y: scored.map((t) => t.reward),
      mode: "markers", name: "trial", marker: { size: 5, color: "#9bb" }, text: scored.map((t) => t.spec) },
    { x: order.filter(([, p]) => p[2] !== null).map(([k]) => k), y: pts.map((p) => p[2]), mode: "lines",
      line: { shape: "hv", color: "#4f8cf7" }, name: "best so far" }],
  { xaxis: { title: { text: "trials finished" } }, yaxis: { title: { text: state.run.metric } } });
  plot("plot-best-time", [{ x: pts.map((p) => p[1]), y: pts.map((p) => p[2]), mode: "lines+markers",
    line: { shape: "hv", color: "#4f8cf7" }, name: "best so far", text: pts.map((p) => (byId.get(p[0]) || {}).spec) }],
  { xaxis: { title: { text: "search time (s)" } }, yaxis: { title: { text: state.run.metric } } });
}

function renderCostOptions(state) {
  const sel = $("cost"), have = Object.keys(state.pareto);
  if ([...sel.options].map((o) => o.value).join() === have.join()) return;
  sel.innerHTML = have.map((c) => `<option>${c}</option>`).join("");
}

function renderPareto(state) {
  if (!state) return;
  const cost = $("cost").value, front = new Set(state.pareto[cost] || []);
  const pts = state.trials.filter((t) => t.reward !== null && t.status !== "failed" && typeof t.metrics[cost] === "number");
  const line = pts.filter((t) => front.has(t.seq)).sort((a, b) => a.metrics[cost] - b.metrics[cost]);
  plot("plot-pareto", [
    { x: pts.map((t) => t.metrics[cost]), y: pts.map((t) => t.reward), mode: "markers", name: "trials",
      text: pts.map((t) => `#${t.id} ${t.spec}`), marker: { size: 6, color: "#9bb" } },
    { x: line.map((t) => t.metrics[cost]), y: line.map((t) => t.reward), mode: "lines+markers", name: "Pareto front",
      line: { shape: "hv", color: "#e4572e" }, text: line.map((t) => `#${t.id} ${t.spec}`) }],
  { xaxis: { title: { text: cost || "cost" }, type: "log" }, yaxis: { title: { text: state.run.metric } } });
}

function renderParcoords(state) {
  const rows = state.table.filter((t) => t.reward !== null);
  if (!rows.length || !rows[0].decisions.length) { $("plot-parcoords").textContent = "no decisions to show"; return; }
  const dims = rows[0].decisions.map((_, i) => {
    const d = state.dims[i] || { name: `d${i}`, choices: null };
    const n = d.choices ? d.choices.length : Math.max(...rows.map((r) => r.decisions[i])) + 1;
    return { label: d.name, values: rows.map((r) => r.decisions[i]), range: [0, Math.max(1, n - 1)],
      tickvals: [...Array(n).keys()], ticktext: d.choices || [...Array(n).keys()].map(String) };
  });
  dims.push({ label: state.run.metric, values: rows.map((r) => r.reward) });
  Plotly.react($("plot-parcoords"), [{ type: "parcoords", dimensions: dims,
    line: { color: rows.map((r) => r.reward), colorscale: "Viridis", showscale: true } }],
  { margin: { l: 60, r: 60, t: 40, b: 20 }, font: { size: 10 } }, { displaylogo: false, responsive: true });
}

async function renderImportance() {
  try {
    const imp = await getJSON(`/api/run/${ui.current}/importance`);
    const names = Object.keys(imp.importances).reverse();
    $("importance-note").textContent = imp.evaluator ? `(${imp.evaluator} over ${imp.trials} trials)` : `(${imp.note})`;
    plot("plot-importance", [{ type: "bar", orientation: "h", y: names, x: names.map((n) => imp.importances[n]),
      marker: { color: "#4f8cf7" } }], { showlegend: false, margin: { l: 120, r: 10, t: 10, b: 40 },
      xaxis: { title: { text: "importance (normalized)" } } });
  } catch (err) { $("importance-note").textContent = err.message; }
}

const COLUMNS = [["id", "id"], ["spec", "spec"], ["status", "status"], ["reward", "reward"],
  ["repeats", "repeats"], ["macs", "MACs"], ["params", "params"], ["finished_s", "finished at (s)"]];
const value = (t, key) => (key === "macs" || key === "params") ? t.metrics[key] : t[key];

function renderTable() {
  const state = ui.states[ui.current]; if (!state) return;
  const q = $("filter").value.trim().toLowerCase(), { key, dir } = ui.sort;
  let rows = state.table.filter((t) => !q || `${t.spec} ${t.status} ${t.id}`.toLowerCase().includes(q));
  rows.sort((a, b) => { const x = value(a, key), y = value(b, key);
    if (x === y) return a.seq - b.seq; if (x === null || x === undefined) return 1; if (y === null || y === undefined) return -1;
    return (x < y ? -1 : 1) * dir; });
  $("trial-count").textContent = `${rows.length} architectures of ${state.table.length} (${state.trials.length} trials)` +
    (rows.length > MAX_ROWS ? `, first ${MAX_ROWS} shown` : "");
  $("trials-table").querySelector("thead").innerHTML = "<tr>" + COLUMNS.map(([k, label]) =>
    `<th data-key="${k}">${label}${k === key ? (dir > 0 ? " ▲" : " ▼") : ""}</th>`).join("") + "</tr>";
  $("trials-table").querySelectorAll("th").forEach((th) => th.onclick = () => {
    ui.sort = { key: th.dataset.key, dir: ui.sort.key === th.dataset.key ? -ui.sort.dir : -1 }; renderTable(); });
  const first = ui.seen.size === 0;
  $("trials-table").querySelector("tbody").innerHTML = rows.slice(0, MAX_ROWS).map((t) => {
    const cls = [t.seq === ui.selA ? "sel-a" : "", t.seq === ui.selB ? "sel-b" : "", !first && !ui.seen.has(t.seq) ? "fresh" : ""].join(" ");
    return `<tr data-seq="${t.seq}" data-id="${t.id}" class="${cls}" title="${esc(t.reason || t.spec)}">` +
      `<td>${t.id}</td><td class="spec">${esc(t.spec)}</td><td>${t.status}</td><td>${fmt(t.reward)}</td>` +
      `<td>${t.repeats}</td><td>${fmt(t.metrics.macs)}</td><td>${fmt(t.metrics.params)}</td><td>${fmt(t.finished_s, 1)}</td></tr>`;
  }).join("");
  state.table.forEach((t) => ui.seen.add(t.seq));
  $("trials-table").querySelectorAll("tbody tr").forEach((tr) => tr.onclick = (ev) => {
    const seq = Number(tr.dataset.seq);
    if (ev.shiftKey && ui.selA !== null && seq !== ui.selA) ui.selB = seq; else { ui.selA = seq; ui.selB = null; }
    renderTable(); showDetail();
  });
}

const trialBySeq = (seq) => ui.states[ui.current].trials.find((t) => t.seq === seq);

async function showDetail() {
  if (ui.selA === null) return;
  const run = ui.current, a = trialBySeq(ui.selA), view = $("view").value;
  $("detail-title").textContent = `#${a.id} (reward ${fmt(a.reward)}): ${a.spec}`;
  refreshCurve();
  const d = await getJSON(`/api/run/${run}/draw/${a.seq}?view=${view}`);
  $("drawing").innerHTML = d.error ? `<p class="error">${esc(d.error)}</p>` : d.svg;
  $("diff").hidden = ui.selB === null;
  if (ui.selB !== null) {
    const b = trialBySeq(ui.selB), df = await getJSON(`/api/run/${run}/diff/${a.seq}/${b.seq}?view=${view}`);
    $("diff-title").textContent = `#${b.id} against #${a.id}`;
    $("diff-text").textContent = df.error || df.text;
    $("diff-drawing").innerHTML = df.error ? "" : df.svg;
  }
}

async function refreshCurve() {
  const a = trialBySeq(ui.selA); if (!a) return;
  const rows = await getJSON(`/api/run/${ui.current}/epochs/${a.id}`);
  const skip = new Set(["candidate_id", "epoch", "reported_at", "elapsed_s"]);
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((k) => !skip.has(k) && rows.some((r) => typeof r[k] === "number"));
  const main = keys.includes(ui.states[ui.current].run.metric) ? ui.states[ui.current].run.metric : keys[0];
  plot("plot-curve", keys.map((k) => ({ x: rows.map((r) => r.epoch), y: rows.map((r) => r[k]), name: k, mode: "lines+markers",
    visible: k === main || /acc/.test(k) ? true : "legendonly" })),
  { xaxis: { title: { text: "epoch" }, dtick: 1 }, yaxis: { title: { text: main || "" } } });
}

function renderCompare() {
  const traces = [], rows = [];
  ui.runs.forEach((r) => { const s = ui.states[r.index]; if (!s) return;
    const pts = s.best_curve.map((p, k) => [k + 1, p[2]]).filter((p) => p[1] !== null);
    traces.push({ x: pts.map((p) => p[0]), y: pts.map((p) => p[1]), mode: "lines", line: { shape: "hv" }, name: r.name });
    rows.push(`<tr><td>${esc(r.name)}</td><td>${esc(s.run.status)}</td><td>${s.run.finished} / ${s.run.budget}</td>` +
      `<td>${fmt(s.run.best && s.run.best.reward)}</td><td class="spec">${esc(s.run.best ? s.run.best.spec : "-")}</td></tr>`); });
  plot("plot-compare", traces, { xaxis: { title: { text: "trials finished" } }, yaxis: { title: { text: "best so far" } } });
  $("compare-table").innerHTML = "<tr><th>run</th><th>status</th><th>finished</th><th>best</th><th>best spec</th></tr>" + rows.join("");
}

init();
