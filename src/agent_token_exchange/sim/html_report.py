"""One self-contained HTML page of a simulation: what the run found first, then the
charts (embedded, so the file can be mailed or archived alone), then the tables. Built
from the same JSON the CLI prints.

Numbers read as a finance reader expects: thousands separators, two decimals for
exchange tokens, a minus sign (never parentheses) for a loss, a plus sign for a gain.
"""

from __future__ import annotations

import base64
from decimal import ROUND_HALF_UP, Decimal
from html import escape
from pathlib import Path
from typing import Any

from . import palette

STYLE = f"""
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px;
       color: {palette.INK}; padding: 0 1rem; line-height: 1.4; }}
h1 {{ margin-bottom: 0.2rem; }}
.sub {{ color: {palette.MUTED}; margin-top: 0; }}
.findings {{ border: 2px solid {palette.AGENT_COLOURS['claude']}; border-radius: 8px;
             padding: 0.8rem 1.2rem; background: #f5f8fc; margin: 1rem 0 1.5rem; }}
.findings h2 {{ margin-top: 0.2rem; }}
.findings li {{ margin: 0.25rem 0; }}
table {{ border-collapse: collapse; margin: 0.5rem 0 1.5rem; }}
th, td {{ border-bottom: 1px solid #ddd; padding: 0.3rem 0.7rem; text-align: left; }}
td.num, th.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
th {{ background: #f4f4f4; }}
.neg {{ color: {palette.LOSS}; }}
.pos {{ color: {palette.GAIN}; }}
pre {{ background: #f7f7f7; padding: 0.8rem; overflow-x: auto; }}
img {{ max-width: 100%; border: 1px solid #eee; margin-bottom: 1rem; }}
"""


class Num(str):
    """A cell that is a number: right-aligned; red when it is a loss."""


def amount(text: str | Decimal, *, signed: bool = False, decimals: int = 2) -> Num:
    """'-871.234567' -> '-871.23'; with ``signed``, '+4,940.00' for a gain."""
    value = Decimal(text).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    sign = "-" if value < 0 else ("+" if signed and value > 0 else "")
    return Num(f"{sign}{abs(value):,.{decimals}f}")


def count(value: int | str) -> Num:
    number = Decimal(str(value))
    return Num(f"{int(number):,}" if number == number.to_integral() else f"{number:,.2f}")


def _cell(cell: Any) -> str:
    if isinstance(cell, int) and not isinstance(cell, bool):
        cell = count(cell)
    if isinstance(cell, Num):
        negative = cell.startswith("-")
        return f'<td class="num{" neg" if negative else ""}">{escape(cell)}</td>'
    return f"<td>{escape(str(cell))}</td>"


def _table(headers: list[str], rows: list[list[Any]], numeric: set[int] | None = None) -> str:
    numeric = numeric or set()
    head = "".join(f'<th class="num">{escape(h)}</th>' if i in numeric else
                   f"<th>{escape(h)}</th>" for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _image(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{data}">'


def _names(items: list[str]) -> str:
    return ", ".join(items[:-1]) + " and " + items[-1] if len(items) > 1 else "".join(items)


# -- findings ---------------------------------------------------------------------------


def run_findings(run: dict[str, Any]) -> list[str]:
    """What one run shows, measured from it (plain sentences)."""
    agents = run["agents"]
    red = [a for a in agents if Decimal(a["net"]) < 0]
    richest = max(agents, key=lambda a: Decimal(a["final"]))
    thrifty = min(agents, key=lambda a: Decimal(a["spent"]))
    lines = [
        ("Ends in the red: " + _names([f"{a['name']} ({amount(a['net'], signed=True)})"
                                       for a in red]))
        if red else "Nobody ends below its start balance.",
        f"Richest at the end: {richest['name']} with {amount(richest['final'])} "
        f"({amount(richest['net'], signed=True)}).",
        f"Spends least: {thrifty['name']}, {amount(thrifty['spent'])} exchange tokens "
        "on inference.",
    ]
    refused = [(a["name"], kind, n) for a in agents for kind, n in a.get("refusals", {}).items()
               if n]
    if refused:
        by_agent: dict[str, list[str]] = {}
        for name, kind, n in refused:
            by_agent.setdefault(name, []).append(f"{n:,} {kind}")
        total = sum(n for _, _, n in refused)
        lines.append(f"Refusals ({total:,}): " + "; ".join(
            f"{name} {', '.join(kinds)}" for name, kinds in by_agent.items()) + ".")
    else:
        lines.append("No request was refused.")
    low = [a["name"] for a in agents if Decimal(a["lowest_balance"]) < Decimal(a["reserve"])]
    lines.append("Below its reserve at some point: " + _names(low) + "." if low else
                 "No agent ever fell below its reserve.")
    return lines


def summary_findings(summary: dict[str, Any]) -> list[str]:
    """What many runs show: how often each pattern held."""
    runs = summary["runs"]

    def tally(counts: dict[str, int]) -> str:
        ranked = sorted(counts.items(), key=lambda kv: -kv[1])
        return _names([f"{name} in {n} of {runs} runs" for name, n in ranked]) or "nobody"

    lines = [f"Ends in the red: {tally(summary['runs_in_red'])}.",
             f"Richest at the end: {tally(summary['runs_richest'])}.",
             f"Spends least: {tally(summary['runs_spending_least'])}."]
    limits = summary["rate_limits"]
    if limits:
        lines.append("Rate-limit refusals per run (mean): " + "; ".join(
            f"{r['agent']} {r['kind']} {count(r['mean'])}" for r in limits[:12]) + ".")
    else:
        lines.append("No rate-limit refusals in any run.")
    lines.append(f"Runs with an agent below its reserve: {summary['runs_below_reserve']} "
                 f"of {runs}.")
    return lines


def sweep_findings(sweep: dict[str, Any]) -> list[str]:
    values = sweep["values"]
    lines = []
    for v in values:
        red = [a["name"] for a in v["agents"] if Decimal(a["net"]) < 0]
        refused = ", ".join(f"{count(v['rate_limit_refusals'][k])} {k}"
                            for k in ("burst", "hourly", "daily"))
        lines.append(f"{sweep['key']} = {v['value']}: "
                     + (f"{_names(red)} end{'s' if len(red) == 1 else ''} in the red"
                        if red else "nobody in the red")
                     + f"; rate-limit refusals per run: {refused}.")
    return lines


def _findings_box(lines: list[str], heading: str) -> str:
    items = "".join(f"<li>{escape(line)}</li>" for line in lines)
    return f'<section class="findings"><h2>{escape(heading)}</h2><ul>{items}</ul></section>'


# -- tables -----------------------------------------------------------------------------


def _run_sections(run: dict[str, Any]) -> list[str]:
    out = ["<h2>Final balances (exchange tokens)</h2>", _table(
        ["Agent", "Start", "Earned", "Spent", "Final", "Net", "Lowest", "Reserve"],
        [[a["name"], amount(a["start"]), amount(a["earned"]), amount(a["spent"]),
          amount(a["final"]), amount(a["net"], signed=True), amount(a["lowest_balance"]),
          amount(a["reserve"])] for a in run["agents"][:200]], set(range(1, 8)))]
    out += ["<h2>Model usage</h2>",
            "<p>Pooled rows: the member's share of the pool's inference tokens, in "
            "proportion to what it paid.</p>", _table(
                ["Agent", "Model", "Pooled", "Requests", "Inference tokens",
                 "Spent (exchange tokens)"],
                [[u["agent"], u["model"], "yes" if u["pooled"] else "", u["requests"],
                  u["inference_tokens"], amount(u["spent"])]
                 for u in run["model_usage"][:400]], {3, 4, 5})]
    events = run["rate_limit_events"]
    log = "\n".join(escape(e["log"]) for e in events[:200])
    more = f"\n… {len(events) - 200:,} more" if len(events) > 200 else ""
    out += [f"<h2>Rate-limit events ({len(events):,})</h2>",
            f"<pre>{log or 'none'}{more}</pre>"]
    out += ["<h2>Time of day</h2>", _table(
        ["Hours (UTC)", "Block", "Commits", "Issues", "Requests", "Refused", "Earned",
         "Spent"],
        [[b["hours"], b["name"], b["commits"], b["issues"], b["requests"], b["refused"],
          amount(b["earned"]), amount(b["spent"])] for b in run["blocks"]],
        set(range(2, 8)))]
    if run["pools"]:
        out += ["<h2>Pools</h2>", _table(
            ["Pool", "Name", "Creator", "Contributed", "Spent", "Requests", "Refunded"],
            [[p["id"], p["name"], p["creator"],
              ", ".join(f"{k} {amount(v)}" for k, v in p["contributed"].items()),
              amount(p["spent"]), p["requests"], amount(p["refunded"])]
             for p in run["pools"][:100]], {4, 5, 6})]
    if run.get("credit"):
        out += _credit_sections(run["credit"])
    return out


def _credit_sections(credit: dict[str, Any]) -> list[str]:
    """The credit market's day: counts, flows (loans, futures, stakes) and the vote."""
    out = ["<h2>Credit market</h2>", _table(
        ["What", "How many"], [[k, v] for k, v in credit["counts"].items()], {1}),
        _table(["Flow", "Tokens"], [[k, amount(v)] for k, v in credit["flows"].items()], {1})]
    vote = credit.get("vote") or {}
    if vote:
        votes = ", ".join(f"{k} {v}" for k, v in vote["votes"].items())
        out += [f"<h3>Vote {escape(vote['id'])}: {escape(vote['parameter'])} = "
                f"{escape(vote['value'])}</h3>",
                f"<p>Proposed by {escape(vote['proposer'])}; {escape(votes)}; "
                f"outcome: {escape(vote['outcome'])}.</p>",
                _table(["Time", "Outcome", "Detail"],
                       [[e["time"], e["outcome"], e["detail"]]
                        for e in vote.get("events", [])], set())]
    return out


def _pm(figure: dict[str, str], signed: bool = False) -> Num:
    return Num(f"{amount(figure['mean'], signed=signed)} ± {amount(figure['stdev'])}")


def _summary_sections(summary: dict[str, Any]) -> list[str]:
    runs = summary["runs"]
    rows = [[s["name"], _pm(s["earned"]), _pm(s["spent"]), _pm(s["final"]),
             _pm(s["net"], signed=True), f"{summary['runs_in_red'].get(s['name'], 0)} of {runs}"]
            for s in summary["spread"][:200]]
    out = [f"<h2>Over {runs} runs ({_seeds(summary)}): mean ± standard deviation, "
           "exchange tokens</h2>",
           _table(["Agent", "Earned", "Spent", "Final", "Net", "Runs in the red"], rows,
                  {1, 2, 3, 4})]
    out += ["<h2>Rate-limit refusals per run</h2>", _table(
        ["Agent", "Kind", "Mean", "Stdev", "Min", "Max", "Runs with any"],
        [[r["agent"], r["kind"], count(r["mean"]), count(r["stdev"]), count(r["min"]),
          count(r["max"]), f"{r['runs_with_any']} of {runs}"]
         for r in summary["rate_limits"][:200]], {2, 3, 4, 5})]
    return out


def _sweep_sections(sweep: dict[str, Any]) -> list[str]:
    values = sweep["values"]
    headers = ["Agent"] + [f"{sweep['key']} = {v['value']}" for v in values]
    rows: list[list[Any]] = []
    for i, agent in enumerate(values[0]["agents"][:200]):
        rows.append([agent["name"]] + [
            Num(f"{amount(v['agents'][i]['final'])} (net "
                f"{amount(v['agents'][i]['net'], signed=True)})") for v in values])
    for kind in ("burst", "hourly", "daily"):
        rows.append([f"{kind} refusals per run"]
                    + [count(v["rate_limit_refusals"][kind]) for v in values])
    return [f"<h2>Sweep of {escape(sweep['key'])}: final balance and net, mean of "
            f"{sweep['runs_per_value']} run(s) per value</h2>",
            _table(headers, rows, set(range(1, len(headers))))]


def _seeds(payload: dict[str, Any]) -> str:
    seeds = payload.get("seeds")
    runs = payload.get("runs", 1)
    if not seeds:
        first = payload.get("seed", 1)
        seeds = list(range(first, first + runs))
    return f"seeds {seeds[0]}–{seeds[-1]}" if len(seeds) > 1 else f"seed {seeds[0]}"


def write_html(path: Path, payload: dict[str, Any], charts: list[tuple[str, Path]]) -> None:
    """The report page: the findings, the charts, then the tables."""
    runs = payload.get("summary", {}).get("runs") or payload.get("runs") or 1
    agents = len(payload.get("agents") or payload.get("sweep", {}).get("values", [{}])[0]
                 .get("agents", []))
    title = f"Agent economy: {agents} agents over {payload['hours']} hours"
    seeds = _seeds({"seed": payload["seed"], "runs": runs,
                    **({"seeds": payload["summary"]["seeds"]} if "summary" in payload else {})})
    start = payload["start"]  # ISO-8601 UTC with Z, as every output writes a time
    intro = (f"Scenario “{payload['scenario']}”, from {start}; "
             + (f"{runs} runs ({seeds})" if runs > 1 else seeds)
             + (f" per value of {payload['sweep']['key']}" if "sweep" in payload else ""))
    parts = [f"<h1>{escape(title)}</h1>", f'<p class="sub">{escape(intro)}</p>']
    if "sweep" in payload:
        parts.append(_findings_box(sweep_findings(payload["sweep"]), "What the sweep found"))
    elif "summary" in payload:
        parts.append(_findings_box(summary_findings(payload["summary"]),
                                   f"What {runs} runs found"))
    else:
        parts.append(_findings_box(run_findings(payload), "What this run found"))
    parts.append("<h2>Charts</h2>")
    parts += [_image(file, alt) for alt, file in charts]
    if "sweep" in payload:
        parts += _sweep_sections(payload["sweep"])
    if "summary" in payload:
        parts += _summary_sections(payload["summary"])
    if "agents" in payload and "model_usage" in payload:
        if "summary" in payload or "sweep" in payload:
            parts.append(f"<h2>First run in detail (seed {payload['seed']})</h2>")
        parts += _run_sections(payload)
    page = (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
            + "\n".join(parts) + "</body></html>\n")
    path.write_text(page, encoding="utf-8")
