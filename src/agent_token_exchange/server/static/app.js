// The dashboard: reads only the JSON API a client would, and updates itself from the
// server-sent event stream (/v1/events), read with fetch so the key travels in a header.
"use strict";

const state = {
  key: null,
  agents: [],          // /v1/agents rows
  pools: [],           // /v1/pools rows
  transfers: [],       // LedgerTransfer JSON, oldest first
  refusals: [],        // RefusalEvent JSON, oldest first
  cursor: "0.0",       // last event id seen: "<transfer seq>.<refusal seq>"
  refreshTimer: null,
  marketDue: false,    // a market transfer arrived: the credit market panel reloads too
  stream: null,
};
const MAX_TRANSFERS = 5000;
const MAX_REFUSALS = 2000;
const NEAR = 0.8;      // "near a limit": 80 % of the hourly or daily limit used
const $ = (sel) => document.querySelector(sel);

// Every piece of data reaches the page as text (textContent), never as markup: names
// may come from an import file. The server's Content-Security-Policy forbids inline
// script as a second wall.
function h(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k === "class") node.className = v;
    else if (k === "data") Object.assign(node.dataset, v);
    else node.setAttribute(k, v);
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// -- money and time as text: the API's decimal strings, shown with separators ----------

function tokens(text) {
  if (text === null || text === undefined) return "";
  text = String(text);
  const negative = text.startsWith("-");
  const [whole, frac = ""] = text.replace("-", "").split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return (negative ? "-" : "") + grouped + "." + (frac + "00").slice(0, Math.max(2, frac.length));
}
const figure = (n) => n.toLocaleString("en-US", { minimumFractionDigits: 2,
                                                   maximumFractionDigits: 2 });
const num = (text) => Number(text);  // charts and tiles only; table figures are exact
const wallet = (agent) => `agent:${agent}`;
const timeMs = (iso) => Date.parse(iso);
const utcTime = (iso) => new Date(timeMs(iso)).toISOString().slice(11, 19);

// "agent:claude" -> "claude", "system:inference" -> "inference", "pool:pool-1" -> "pool pool-1"
function account(name) {
  const at = String(name).indexOf(":");
  if (at < 0) return String(name);
  const [kind, rest] = [name.slice(0, at), name.slice(at + 1)];
  return kind === "agent" || kind === "system" ? rest : `${kind} ${rest}`;
}

// The palette is sim/palette.py's, as CSS variables: the seed's agents by name, any
// other by its position, as in the simulation's PNGs.
function agentColour(name, position) {
  const style = getComputedStyle(document.documentElement);
  return style.getPropertyValue(`--agent-${name}`).trim()
    || style.getPropertyValue(`--series-${position % 10}`).trim();
}

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
  const fill = h("span");
  fill.style.width = `${(ratio * 100).toFixed(1)}%`;
  return h("div", { class: ratio >= 1 ? "gauge full" : ratio >= NEAR ? "gauge warn" : "gauge",
                    title: `${tokens(used)} of ${tokens(limit)} used` },
           h("div", { class: "bar" }, fill),
           h("span", { class: "figures" }, `${tokens(used)} / ${tokens(limit)}`));
}

function renderAgents() {
  const body = $("#agents tbody");
  const previous = new Map([...body.querySelectorAll("tr")].map(
    (tr) => [tr.dataset.agent, tr.dataset.tokens]));
  const rows = state.agents.map((a, i) => {
    const swatch = h("span", { class: "swatch" });
    swatch.style.background = agentColour(a.agent, i);
    const tr = h("tr", { data: { agent: a.agent, tokens: a.tokens } },
      h("td", {}, swatch, a.agent), h("td", {}, `L${a.level}`),
      h("td", { class: "num", "data-testid": `tokens-${a.agent}` }, tokens(a.tokens)),
      h("td", { class: "num" }, tokens(a.earned)), h("td", { class: "num" }, tokens(a.spent)),
      h("td", { "data-testid": `hourly-${a.agent}` }, gauge(a.hourly_used, a.hourly_limit)),
      h("td", {}, gauge(a.daily_used, a.daily_limit)));
    if (previous.has(a.agent) && previous.get(a.agent) !== a.tokens) tr.classList.add("flash");
    return tr;
  });
  body.replaceChildren(...rows);
}

function renderPools() {
  const box = $("#pools");
  if (!state.pools.length) {
    box.replaceChildren(h("p", { class: "muted" }, "No pools yet."));
    return;
  }
  // Open pools first; dissolved ones after, muted.
  const pools = [...state.pools].sort((a, b) => !!a.dissolved_at - !!b.dissolved_at);
  box.replaceChildren(...pools.map((p) => {
    const status = p.dissolved_at ? "dissolved" : "open";
    const who = p.dissolved_at ? "dissolved" : p.open ? "open to all" : "invite-only";
    return h("div", { class: `pool ${status}`, data: { pool: p.id } },
      h("h3", {}, `${p.id} · ${p.name} `, h("span", { class: "muted" }, `(${who})`)),
      h("div", { class: "muted" }, `balance ${tokens(p.balance)} · contributed ${
        tokens(p.total_contributed)} · spent ${tokens(p.total_spent)}`),
      // Each member's stake: its share of the balance, and of the next spend.
      ...p.members.map((m) => {
        const fill = h("span");
        fill.style.width = `${Math.max(0, Math.min(100, num(m.share_percent)))}%`;
        return h("div", { class: "share", title: `stake ${tokens(m.stake)} of ${
          tokens(m.contributed)} put in` }, h("span", {}, m.agent),
                 h("div", { class: "track" }, fill), h("span", {}, `${m.share_percent}%`));
      }),
      ...(p.invited.length ? [h("div", { class: "muted" }, `invited: ${p.invited.join(", ")}`)]
        : []));
  }));
}

// Repeats of one refusal within a minute are one row with a count; a repeat arrives as
// that row again, under a new number, so it replaces the one shown before.
function refusalKey(r) {
  return [r.agent, r.pool_id, r.operation, r.code, r.first_at].join("\u0000");
}

function times(r) {
  return r.count > 1 ? ` ×${r.count}` : "";
}

function flowItem(kind, data) {
  const time = h("span", { class: "time", title: `${data.at} (UTC)` }, utcTime(data.at));
  if (kind === "refusal") {
    const who = data.agent || data.pool_id || "";
    return h("li", { class: "refusal", data: { refusal: refusalKey(data) } }, time,
      h("span", { class: "what" }, `${who ? who + ": " : ""}refused ${data.operation}${
        times(data)}`, h("small", {}, data.message)),
      h("span", { class: "amount" }, data.amount ? tokens(data.amount) : ""));
  }
  return h("li", { data: { seq: data.seq } }, time,
    h("span", { class: "what" }, `${account(data.source)} → ${account(data.destination)}`,
      h("small", {}, `${data.kind}: ${data.description}`)),
    h("span", { class: "amount" }, tokens(data.amount)));
}

function addToFlow(kind, data) {
  const flow = $("#flow");
  if (kind === "refusal") {
    for (const li of flow.querySelectorAll("li.refusal")) {
      if (li.dataset.refusal === refusalKey(data)) li.remove();
    }
  }
  flow.insertBefore(flowItem(kind, data), flow.firstChild);
  while (flow.children.length > 100) flow.removeChild(flow.lastChild);
}

// Balances over time: walk the transfers backwards from today's balances.
function balanceSeries(now) {
  return state.agents.map((a, i) => {
    let balance = num(a.tokens);
    const points = [[now, balance]];
    for (let j = state.transfers.length - 1; j >= 0; j--) {
      const t = state.transfers[j];
      const amount = num(t.amount);
      if (t.kind === "grant" && t.destination === wallet(a.agent)) break;  // its start
      if (t.destination === wallet(a.agent)) balance -= amount;
      else if (t.source === wallet(a.agent)) balance += amount;
      else continue;
      points.push([timeMs(t.at), balance]);
    }
    return { name: a.agent, colour: agentColour(a.agent, i), points: points.reverse() };
  });
}

// Both charts show the same window: from the oldest loaded transfer (at most a day
// back, at least half an hour) to now.
function chartWindow() {
  const now = Date.now();
  const oldest = state.transfers.length ? timeMs(state.transfers[0].at) : now;
  const span = Math.min(24 * Charts.HOUR, Math.max(30 * Charts.MINUTE, now - oldest));
  return [now - span, now];
}

const BUCKETS = [1, 2, 5, 10, 15, 30, 60].map((m) => m * 60000);

function spendBuckets(window) {
  const size = BUCKETS.find((b) => (window[1] - window[0]) / b <= 40) || BUCKETS[BUCKETS.length - 1];
  const buckets = new Map();
  for (let m = Math.floor(window[0] / size) * size; m < window[1]; m += size) buckets.set(m, 0);
  for (const t of state.transfers) {
    if (t.kind !== "inference" && t.kind !== "pool_spend") continue;
    const m = Math.floor(timeMs(t.at) / size) * size;
    if (buckets.has(m)) buckets.set(m, buckets.get(m) + num(t.amount));
  }
  return { size, buckets: [...buckets.entries()] };
}

function renderCharts() {
  const window = chartWindow();
  const range = `${Charts.clock(window[0])}–${Charts.clock(window[1])} UTC`;
  $("#range-balance").textContent = range;
  $("#range-spend").textContent = range;
  Charts.lines($("#balance-chart"), balanceSeries(window[1]), window, $("#balance-legend"));
  const { size, buckets } = spendBuckets(window);
  const unit = `exchange tokens per ${size / 60000} min`;
  Charts.bars($("#spend-chart"), buckets, window, size, unit);
  $("#spend-unit").textContent = `bars: ${unit}`;
}

function renderTiles() {
  const now = Date.now(), hourAgo = now - 3600000;
  const inWallets = state.agents.reduce((sum, a) => sum + num(a.tokens), 0);
  const inPools = state.pools.filter((p) => !p.dissolved_at)
    .reduce((sum, p) => sum + num(p.balance), 0);
  $("#tile-circulation").textContent = figure(inWallets + inPools);
  const spent = state.transfers
    .filter((t) => (t.kind === "inference" || t.kind === "pool_spend") && timeMs(t.at) >= hourAgo)
    .reduce((sum, t) => sum + num(t.amount), 0);
  $("#tile-spend").textContent = figure(spent);
  const recent = state.refusals.filter((r) => timeMs(r.at) >= hourAgo);
  const refused = recent.reduce((sum, r) => sum + (r.count || 1), 0);
  $("#tile-refusals").textContent = refused.toLocaleString("en-US");
  const byWho = new Map();
  for (const r of recent) {
    const who = r.agent || r.pool_id || "?";
    byWho.set(who, (byWho.get(who) || 0) + (r.count || 1));
  }
  $("#tile-refusals-note").textContent = [...byWho].sort((a, b) => b[1] - a[1]).slice(0, 3)
    .map(([who, n]) => `${who} ${n}`).join(", ") || "none";
  $("[data-testid=tile-refusals]").classList.toggle("alert", refused > 0);
  const near = state.agents.filter((a) =>
    num(a.hourly_used) >= NEAR * num(a.hourly_limit) || num(a.daily_used) >= NEAR * num(a.daily_limit));
  $("#tile-near").textContent = String(near.length);
  $("#tile-near-note").textContent = near.length ? near.map((a) => a.agent).join(", ")
    : `none at ${NEAR * 100} % of hourly or daily`;
  $("[data-testid=tile-near]").classList.toggle("alert", near.length > 0);
}

// -- data -------------------------------------------------------------------------------

async function refresh(market = true) {
  const [agents, pools] = await Promise.all([api("/v1/agents"), api("/v1/pools"),
                                             market ? Market.refresh() : null]);
  state.agents = agents.agents;
  state.pools = pools.pools;
  renderAgents();
  renderPools();
  renderCharts();
  renderTiles();
}

function refreshSoon() {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(() => {
    const market = state.marketDue;
    state.marketDue = false;
    refresh(market).catch(showProblem);
  }, 150);
}

async function load() {
  const who = await api("/v1/whoami");
  $("#who").textContent = who.admin ? "admin view" : `view of ${who.agent}`;
  const [transfers, refusals] = await Promise.all([
    api("/v1/transfers?limit=2000"), api("/v1/refusals?limit=500")]);
  state.transfers = transfers.transfers;
  state.refusals = [...refusals.refusals].reverse();
  const lastTransfer = state.transfers.length ? state.transfers[state.transfers.length - 1].seq : 0;
  const lastRefusal = refusals.refusals.length ? refusals.refusals[0].seq : 0;
  state.cursor = `${lastTransfer}.${lastRefusal}`;
  const recent = [
    ...state.transfers.slice(-50).map((t) => ["transfer", t]),
    ...refusals.refusals.slice(0, 20).map((r) => ["refusal", r]),
  ].sort((a, b) => timeMs(a[1].at) - timeMs(b[1].at) || a[1].seq - b[1].seq);
  $("#flow").replaceChildren();
  for (const [kind, data] of recent) addToFlow(kind, data);
  await refresh();
  $("#dashboard").hidden = false;
  $("#forget").hidden = false;
  listen();
}

function onEvent(kind, data) {
  if (kind === "transfer") {
    if (Market.KINDS.has(data.kind)) state.marketDue = true;
    state.transfers.push(data);
    if (state.transfers.length > MAX_TRANSFERS) state.transfers.shift();
  } else {
    const key = refusalKey(data);
    state.refusals = state.refusals.filter((r) => refusalKey(r) !== key);
    state.refusals.push(data);
    if (state.refusals.length > MAX_REFUSALS) state.refusals.shift();
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
setInterval(() => {
  if (state.key && !$("#dashboard").hidden) { renderCharts(); renderTiles(); }
}, 30000);
// The market panel reads again every 10 s: votes and proposals move no tokens (no event),
// a settle's default or a vote closing neither, an agent's stream does not carry others'
// offers, and the time left moves on.
setInterval(() => {
  if (state.key && !$("#dashboard").hidden) Market.refresh().catch(showProblem);
}, 10000);
