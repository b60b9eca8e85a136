// The credit market panel: loan offers and loans, futures, stakes and proposals with their
// live tallies. It reads only the JSON API a client would (/v1/loans, /v1/loans/offers,
// /v1/futures, /v1/stakes, /v1/proposals, /v1/parameters), under the dashboard's key: an
// agent's key gets what the API lets it read, nothing more. Loaded before app.js, whose
// helpers (h, tokens, api, $) it calls only once the page runs; every field reaches the
// page as text through h().
"use strict";

const Market = (() => {
  // The transfer kinds of the credit market (economy/accounts.py MARKET_KINDS): an event
  // of one of these means a row of this panel changed.
  const KINDS = new Set([
    "loan_escrow", "loan_cancel", "loan_draw", "loan_repay",
    "future_escrow", "future_refund", "future_collateral", "future_pay", "future_return",
    "future_forfeit", "stake", "unstake", "unbond"]);
  const CLOSED_SHOWN = 20;  // repaid loans, settled futures, closed proposals kept in view
  const data = { offers: [], loans: [], futures: [], stakes: [], proposals: [], parameters: [] };

  // -- text -----------------------------------------------------------------------------

  function percent(fraction, digits = 2) {
    return `${(Number(fraction) * 100).toFixed(digits).replace(/\.?0+$/, "")}%`;
  }

  function span(ms) {
    const minutes = Math.floor(Math.abs(ms) / 60000);
    if (minutes < 1) return "<1m";
    const d = Math.floor(minutes / 1440), hr = Math.floor((minutes % 1440) / 60), m = minutes % 60;
    if (d) return `${d}d ${hr}h`;
    return hr ? `${hr}h ${m}m` : `${m}m`;
  }

  // "3h 12m left" or "overdue 5m", with the moment itself (UTC) as the title.
  function until(iso, { past = "overdue" } = {}) {
    const ms = Date.parse(iso) - Date.now();
    const text = ms >= 0 ? `${span(ms)} left` : `${past} ${span(ms)}`;
    return h("span", { class: ms >= 0 ? "until" : "until past", title: `${iso} (UTC)` }, text);
  }

  const when = (iso) => h("span", { title: `${iso} (UTC)` },
    `${iso.slice(0, 10)} ${iso.slice(11, 16)}`);
  const dash = () => h("span", { class: "muted" }, "–");
  const status = (text) => h("span", { class: `status status-${text}` }, text);
  const money = (text, props = {}) => h("td", { class: "num", ...props }, tokens(text));

  function table(testid, headings, rows, empty) {
    if (!rows.length) return h("p", { class: "muted", "data-testid": testid }, empty);
    return h("div", { class: "scroll" }, h("table", { "data-testid": testid },
      h("thead", {}, h("tr", {}, ...headings.map((t) =>
        h("th", { class: t.startsWith("#") ? "num" : "" }, t.replace(/^#/, ""))))),
      h("tbody", {}, ...rows)));
  }

  // Open rows first, then the most recently closed ones.
  function ordered(rows, isOpen) {
    const open = rows.filter(isOpen);
    const closed = rows.filter((r) => !isOpen(r)).reverse().slice(0, CLOSED_SHOWN);
    return [...open, ...closed];
  }

  // -- loans and offers -----------------------------------------------------------------

  function loanRows() {
    const offers = data.offers.filter((o) => o.status === "open").map((o) =>
      h("tr", { "data-testid": `offer-${o.id}`, data: { offer: o.id } },
        h("td", {}, o.id), h("td", {}, o.lender), h("td", {}, dash()),
        money(o.amount), h("td", { class: "num" }, `${percent(o.rate_per_day)}/day`),
        h("td", { class: "num" }, dash()),
        h("td", {}, `term ${o.term_hours}h`), h("td", {}, status("offered"))));
    // Defaulted loans are still owed: they sort with the open ones, and stand out.
    const loans = ordered(data.loans, (l) => l.status !== "repaid").map((l) =>
      h("tr", { "data-testid": `loan-${l.id}`, data: { loan: l.id },
                class: l.status === "defaulted" ? "defaulted" : l.status === "repaid" ? "closed" : "" },
        h("td", {}, l.id), h("td", {}, l.lender), h("td", {}, l.borrower),
        money(l.principal), h("td", { class: "num" }, `${percent(l.rate_per_day)}/day`),
        money(l.owed, { "data-testid": `owed-${l.id}` }),
        h("td", {}, l.status === "repaid" ? when(l.repaid_at || l.due_at) : until(l.due_at)),
        h("td", {}, status(l.status))));
    return [...offers, ...loans];
  }

  // -- futures --------------------------------------------------------------------------

  function futureRows() {
    const live = (f) => f.status === "open" || f.status === "accepted";
    return ordered(data.futures, live).map((f) => {
      const seller = f.seller || (f.named_seller ? `${f.named_seller}?` : null);
      return h("tr", { "data-testid": `future-${f.id}`, data: { future: f.id },
                       class: f.status === "failed" ? "defaulted" : live(f) ? "" : "closed" },
        h("td", {}, f.id), h("td", {}, f.buyer), h("td", {}, seller || h("span",
          { class: "muted" }, "anyone")),
        h("td", { class: "work", title: f.work }, f.work),
        money(f.price), money(f.collateral),
        h("td", {}, live(f) ? until(f.deadline, { past: "late" }) : when(f.closed_at || f.deadline)),
        h("td", {}, status(f.status)));
    });
  }

  // -- stakes and proposals -------------------------------------------------------------

  function stakeRows() {
    return data.stakes.map((s) => h("tr", { "data-testid": `stake-${s.agent}`,
                                            data: { agent: s.agent } },
      h("td", {}, s.agent), money(s.staked), money(s.unbonding),
      h("td", {}, s.next_release_at ? until(s.next_release_at, { past: "due" }) : dash())));
  }

  // Turnout against the quorum: full when the quorum is met.
  function quorumGauge(p) {
    const quorum = Number(p.quorum), turnout = Number(p.turnout);
    const ratio = quorum > 0 ? Math.min(1, turnout / quorum) : 1;
    const fill = h("span");
    fill.style.width = `${(ratio * 100).toFixed(1)}%`;
    return h("div", { class: ratio >= 1 ? "gauge met" : "gauge",
                      title: `${percent(turnout)} of the stake voted; quorum ${percent(quorum)}` },
      h("div", { class: "bar" }, fill),
      h("span", { class: "figures" }, `${percent(turnout, 1)} / ${percent(quorum, 1)}`));
  }

  function proposalRows() {
    const current = new Map(data.parameters.map((p) => [p.name, p.value]));
    const live = (p) => p.status === "voting" || p.status === "passed";
    return ordered(data.proposals, live).map((p) => {
      const voting = p.status === "voting";
      const now = current.has(p.parameter) && p.status !== "enacted"
        ? h("span", { class: "muted" }, ` (now ${current.get(p.parameter)})`) : null;
      return h("tr", { "data-testid": `proposal-${p.id}`, data: { proposal: p.id },
                       class: live(p) ? "" : "closed" },
        h("td", {}, p.id), h("td", { title: p.reason }, p.parameter),
        h("td", { class: "num" }, p.value, now), h("td", {}, status(p.status)),
        money(p.yes, { "data-testid": `yes-${p.id}` }), money(p.no), money(p.abstain),
        h("td", { "data-testid": `quorum-${p.id}` }, quorumGauge(p)),
        h("td", {}, voting ? until(p.voting_ends_at, { past: "closing" })
          : when(p.closed_at || p.voting_ends_at)),
        h("td", {}, p.enacted_at ? when(p.enacted_at)
          : p.status === "passed" || voting ? until(p.effective_at, { past: "due" }) : dash()));
    });
  }

  // -- the panel ------------------------------------------------------------------------

  function render() {
    const box = document.querySelector("#market");
    if (!box) return;
    box.replaceChildren(
      h("div", { class: "market-part loans-part" }, h("h3", {}, "Loans and offers"),
        table("market-loans", ["Id", "Lender", "Borrower", "#Principal", "#Rate", "#Owed now",
                               "Due", "Status"], loanRows(), "No open offers or loans.")),
      h("div", { class: "market-part futures-part" }, h("h3", {}, "Futures"),
        table("market-futures", ["Id", "Buyer", "Seller", "Work", "#Price", "#Collateral",
                                 "Deadline", "Status"], futureRows(), "No futures.")),
      h("div", { class: "market-part stakes-part" }, h("h3", {}, "Stakes"),
        table("market-stakes", ["Agent", "#Staked", "#Unbonding", "Next release"],
              stakeRows(), "Nothing staked.")),
      h("div", { class: "market-part proposals-part" }, h("h3", {}, "Proposals"),
        table("market-proposals", ["Id", "Parameter", "#Value", "Status", "#Yes", "#No",
                                   "#Abstain", "Quorum", "Voting closes", "Takes effect"],
              proposalRows(), "No proposals.")));
  }

  async function refresh() {
    const [offers, loans, futures, stakes, proposals, parameters] = await Promise.all([
      api("/v1/loans/offers"), api("/v1/loans"), api("/v1/futures"), api("/v1/stakes"),
      api("/v1/proposals"), api("/v1/parameters")]);
    Object.assign(data, { offers: offers.offers, loans: loans.loans, futures: futures.futures,
                          stakes: stakes.stakes, proposals: proposals.proposals,
                          parameters: parameters.parameters });
    render();
  }

  return { KINDS, refresh, render };
})();
