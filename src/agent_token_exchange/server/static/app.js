// The dashboard: reads only the JSON API a client would, and updates itself from the
// server-sent event stream (/v1/events), read with fetch so the key travels in a header.
"use strict";

const state = {
  key: null,
  agents: [],          // /v1/agents rows
  pools: [],           // /v1/pools rows
  transfers: [],       // LedgerTransfer JSON, oldest first
  cursor: "0.0",       // last event id seen: "<transfer seq>.<refusal seq>"
  refreshTimer: null,
  stream: null,
};
const MAX_TRANSFERS = 5000;
const $ = (sel) => document.querySelector(sel);

// -- money as text: the API's decimal strings, shown with separators ------------------

function tokens(text) {
  if (text === null || text === undefined) return "";
  const negative = text.startsWith("-");
  const [whole, frac = ""] = text.replace("-", "").split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return (negative ? "-" : "") + grouped + "." + (frac + "00").slice(0, Math.max(2, frac.length));
}
const num = (text) => Number(text);  // charts only; figures shown are the exact strings
const wallet = (agent) => `agent:${agent}`;
const timeMs = (iso) => Date.parse(iso);

// -- API --------------------------------------------------------------------------------

class Unauthorized extends Error {}

async function api(path) {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${state.key}` } });
  if (response.status === 401) throw new Unauthorized("that key is not valid");
  const body = await response.json();
  if (!response.ok) throw new Error(body.error ? body.error.message : response.statusText);
  return body;
}

// -- rendering --------------------------------------------------------------------------

function gauge(used, limit) {
  const ratio = Math.min(1, num(used) / Math.max(num(limit), 1e-9));
  const cls = ratio >= 1 ? "gauge full" : ratio >= 0.8 ? "gauge warn" : "gauge";
  return `<div class="${cls}" title="${used} of ${limit}"><span style="width:${
    (ratio * 100).toFixed(1)}%"></span><em>${tokens(used)} / ${tokens(limit)}</em></div>`;
}

function renderAgents() {
  const body = $("#agents tbody");
  const previous = new Map([...body.querySelectorAll("tr")].map(
    (tr) => [tr.dataset.agent, tr.dataset.tokens]));
  body.innerHTML = "";
  for (const a of state.agents) {
    const tr = document.createElement("tr");
    tr.dataset.agent = a.agent;
    tr.dataset.tokens = a.tokens;
    tr.innerHTML = `<td>${a.agent}</td><td>L${a.level}</td>
      <td class="num" data-testid="tokens-${a.agent}">${tokens(a.tokens)}</td>
      <td class="num">${tokens(a.earned)}</td><td class="num">${tokens(a.spent)}</td>
      <td data-testid="hourly-${a.agent}">${gauge(a.hourly_used, a.hourly_limit)}</td>
      <td>${gauge(a.daily_used, a.daily_limit)}</td>`;
    if (previous.has(a.agent) && previous.get(a.agent) !== a.tokens) tr.classList.add("flash");
    body.appendChild(tr);
  }
}

function renderPools() {
  const box = $("#pools");
  if (!state.pools.length) { box.innerHTML = '<p class="muted">No pools yet.</p>'; return; }
  box.innerHTML = "";
  for (const p of state.pools) {
    const div = document.createElement("div");
    div.className = "pool";
    div.dataset.pool = p.id;
    const status = p.dissolved_at ? "dissolved" : "open";
    div.innerHTML = `<h3>${p.id} · ${escapeHtml(p.name)} <span class="muted">(${status})</span></h3>
      <div class="muted">balance ${tokens(p.balance)} · contributed ${tokens(p.total_contributed)}
      · spent ${tokens(p.total_spent)}</div>` + p.members.map((m) => `
      <div class="share"><span>${m.agent}</span>
        <div class="bar" style="width:${m.share_percent}%"></div>
        <span>${m.share_percent}%</span></div>`).join("");
    box.appendChild(div);
  }
}

function flowItem(kind, data) {
  const li = document.createElement("li");
  const at = data.at.slice(11, 19);
  if (kind === "refusal") {
    li.className = "refusal";
    li.innerHTML = `<span>${at}</span><span>refused ${data.operation}</span>
      <span>${escapeHtml(data.message)}</span>
      <span class="amount">${data.amount ? tokens(data.amount) : ""}</span>`;
  } else {
    li.dataset.seq = data.seq;
    li.innerHTML = `<span>${at}</span><span>${data.kind}</span>
      <span>${data.source} → ${data.destination}<br><small class="muted">${
        escapeHtml(data.description)}</small></span>
      <span class="amount">${tokens(data.amount)}</span>`;
  }
  return li;
}

function addToFlow(kind, data) {
  const flow = $("#flow");
  flow.insertBefore(flowItem(kind, data), flow.firstChild);
  while (flow.children.length > 100) flow.removeChild(flow.lastChild);
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

// Balances over time: walk the transfers backwards from today's balances.
function balanceSeries() {
  const series = {};
  for (const a of state.agents) {
    let balance = num(a.tokens);
    const points = [[Date.now(), balance]];
    for (let i = state.transfers.length - 1; i >= 0; i--) {
      const t = state.transfers[i];
      const amount = num(t.amount);
      const at = timeMs(t.at);
      if (t.kind === "grant" && t.destination === wallet(a.agent)) break;  // its start
      if (t.destination === wallet(a.agent)) balance -= amount;
      else if (t.source === wallet(a.agent)) balance += amount;
      else continue;
      points.push([at, balance]);
    }
    series[a.agent] = points.reverse();
  }
  return series;
}

function spendBuckets() {
  const now = Math.floor(Date.now() / 60000) * 60000;
  const buckets = new Map();
  for (let m = now - 29 * 60000; m <= now; m += 60000) buckets.set(m, 0);
  for (const t of state.transfers) {
    if (t.kind !== "inference" && t.kind !== "pool_spend") continue;
    const m = Math.floor(timeMs(t.at) / 60000) * 60000;
    if (buckets.has(m)) buckets.set(m, buckets.get(m) + num(t.amount));
  }
  return [...buckets.entries()];
}

function renderCharts() {
  Charts.lines($("#balance-chart"), balanceSeries(), $("#balance-legend"));
  Charts.bars($("#spend-chart"), spendBuckets());
}

// -- data -------------------------------------------------------------------------------

async function refresh() {
  const [agents, pools] = await Promise.all([api("/v1/agents"), api("/v1/pools")]);
  state.agents = agents.agents;
  state.pools = pools.pools;
  renderAgents();
  renderPools();
  renderCharts();
}

function refreshSoon() {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(() => refresh().catch(showProblem), 150);
}

async function load() {
  const who = await api("/v1/whoami");
  $("#who").textContent = who.admin ? "admin view" : `view of ${who.agent}`;
  const [transfers, refusals] = await Promise.all([
    api("/v1/transfers?limit=2000"), api("/v1/refusals?limit=20")]);
  state.transfers = transfers.transfers;
  const lastTransfer = state.transfers.length ? state.transfers[state.transfers.length - 1].seq : 0;
  const lastRefusal = refusals.refusals.length ? refusals.refusals[0].seq : 0;
  state.cursor = `${lastTransfer}.${lastRefusal}`;
  const recent = [
    ...state.transfers.slice(-50).map((t) => ["transfer", t]),
    ...refusals.refusals.map((r) => ["refusal", r]),
  ].sort((a, b) => timeMs(a[1].at) - timeMs(b[1].at) || a[1].seq - b[1].seq);
  $("#flow").innerHTML = "";
  for (const [kind, data] of recent) addToFlow(kind, data);
  await refresh();
  $("#dashboard").hidden = false;
  $("#forget").hidden = false;
  listen();
}

function onEvent(kind, data) {
  if (kind === "transfer") {
    state.transfers.push(data);
    if (state.transfers.length > MAX_TRANSFERS) state.transfers.shift();
  }
  addToFlow(kind, data);
  refreshSoon();
}

// Server-sent events over fetch: EventSource cannot send an Authorization header.
async function listen() {
  const connection = $("#connection");
  const controller = new AbortController();
  state.stream = controller;
  try {
    const response = await fetch(`/v1/events?after=${encodeURIComponent(state.cursor)}`, {
      headers: { Authorization: `Bearer ${state.key}`, Accept: "text/event-stream" },
      signal: controller.signal,
    });
    if (!response.ok) throw new Error(`event stream answered ${response.status}`);
    connection.textContent = "live";
    connection.className = "connection live";
    document.body.dataset.live = "1";
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        dispatch(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    }
  } catch (error) {
    if (controller.signal.aborted) return;
  }
  connection.textContent = "reconnecting…";
  connection.className = "connection down";
  document.body.dataset.live = "0";
  setTimeout(() => { if (state.stream === controller) listen(); }, 1000);
}

function dispatch(frame) {
  let event = "message", data = "", id = null;
  for (const line of frame.split("\n")) {
    if (line.startsWith("event: ")) event = line.slice(7);
    else if (line.startsWith("data: ")) data += line.slice(6);
    else if (line.startsWith("id: ")) id = line.slice(4);
  }
  if (id) state.cursor = id;
  if (data && (event === "transfer" || event === "refusal")) onEvent(event, JSON.parse(data));
}

function showProblem(error) {
  if (error instanceof Unauthorized) { logout(error.message); return; }
  const connection = $("#connection");
  connection.textContent = error.message;
  connection.className = "connection down";
}

// -- the key ------------------------------------------------------------------------------

function logout(message) {
  if (state.stream) state.stream.abort();
  state.stream = null;
  state.key = null;
  sessionStorage.removeItem("atx-key");
  $("#dashboard").hidden = true;
  $("#forget").hidden = true;
  $("#login").hidden = false;
  $("#login-error").textContent = message || "";
}

function start(key) {
  state.key = key;
  $("#login").hidden = true;
  load().then(() => sessionStorage.setItem("atx-key", key)).catch((error) => {
    if (error instanceof Unauthorized) logout(error.message);
    else showProblem(error);
  });
}

$("#login").addEventListener("submit", (event) => {
  event.preventDefault();
  const key = $("#key").value.trim();
  if (key) start(key);
});
$("#forget").addEventListener("click", () => logout(""));

// A key may come in the URL fragment (never sent to the server): /#key=atx_…
const fromHash = new URLSearchParams(location.hash.slice(1)).get("key");
if (fromHash) history.replaceState(null, "", location.pathname);
// The key lives for this tab only (sessionStorage): localStorage would keep an admin key on
// disk after the browser closes. Drop one an older dashboard left there.
localStorage.removeItem("atx-key");
const saved = fromHash || sessionStorage.getItem("atx-key");
if (saved) start(saved); else logout("");
setInterval(() => { if (state.key && !$("#dashboard").hidden) renderCharts(); }, 30000);
