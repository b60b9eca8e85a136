"""One self-contained HTML page of a simulation: its tables and its charts (embedded, so
the file can be mailed or archived alone). Built from the same JSON the CLI prints."""

from __future__ import annotations

import base64
import re
from html import escape
from pathlib import Path
from typing import Any

_NUMBER = re.compile(r"[-+]?[0-9][0-9,]*(\.[0-9]+)?( \(.*\)| ± [0-9.,]+)?")

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px;
       color: #222; padding: 0 1rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3rem 0.7rem; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f4f4f4; }
td.neg { color: #b00020; }
pre { background: #f7f7f7; padding: 0.8rem; overflow-x: auto; }
img { max-width: 100%; border: 1px solid #eee; margin-bottom: 1rem; }
"""


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for cell in row:
            text = escape(str(cell))
            classes = []
            if _NUMBER.fullmatch(text):
                classes.append("num")
                if text.startswith("-"):
                    classes.append("neg")
            cells.append(f'<td class="{" ".join(classes)}">{text}</td>' if classes
                         else f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _image(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{data}">'


def _run_sections(run: dict[str, Any]) -> list[str]:
    out = ["<h2>Final balances</h2>", _table(
        ["Agent", "Start", "Earned", "Spent", "Final", "Net", "Lowest", "Reserve"],
        [[a["name"], a["start"], a["earned"], a["spent"], a["final"], a["net"],
          a["lowest_balance"], a["reserve"]] for a in run["agents"][:200]])]
    out += ["<h2>Model usage</h2>", _table(
        ["Agent", "Model", "Pooled", "Requests", "Inference tokens", "Spent"],
        [[u["agent"], u["model"], "yes" if u["pooled"] else "", u["requests"],
          f"{u['inference_tokens']:,}", u["spent"]] for u in run["model_usage"][:400]])]
    events = run["rate_limit_events"]
    log = "\n".join(escape(e["agent"] + " " + e["log"]) for e in events[:200])
    more = f"\n… {len(events) - 200} more" if len(events) > 200 else ""
    out += [f"<h2>Rate-limit events ({len(events)})</h2>", f"<pre>{log or 'none'}{more}</pre>"]
    out += ["<h2>Time of day</h2>", _table(
        ["Hours", "Block", "Commits", "Issues", "Requests", "Refused", "Earned", "Spent"],
        [[b["hours"], b["name"], b["commits"], b["issues"], b["requests"], b["refused"],
          b["earned"], b["spent"]] for b in run["blocks"]])]
    if run["pools"]:
        out += ["<h2>Pools</h2>", _table(
            ["Pool", "Name", "Creator", "Contributed", "Spent", "Requests", "Refunded"],
            [[p["id"], p["name"], p["creator"],
              ", ".join(f"{k} {v}" for k, v in p["contributed"].items()), p["spent"],
              p["requests"], p["refunded"]] for p in run["pools"][:100]])]
    return out


def _summary_sections(summary: dict[str, Any]) -> list[str]:
    rows = []
    for s in summary["spread"][:200]:
        rows.append([s["name"]] + [f"{s[f]['mean']} ± {s[f]['stdev']}"
                                   for f in ("earned", "spent", "final", "net")]
                    + [summary["runs_in_red"].get(s["name"], 0)])
    out = [f"<h2>Over {summary['runs']} runs (mean ± standard deviation)</h2>",
           _table(["Agent", "Earned", "Spent", "Final", "Net", "Runs in red"], rows)]
    out += ["<h2>Rate-limit refusals per run</h2>", _table(
        ["Agent", "Kind", "Mean", "Stdev", "Min", "Max", "Runs with any"],
        [[r["agent"], r["kind"], r["mean"], r["stdev"], r["min"], r["max"],
          r["runs_with_any"]] for r in summary["rate_limits"][:200]])]
    return out


def _sweep_sections(sweep: dict[str, Any]) -> list[str]:
    values = sweep["values"]
    headers = ["Agent"] + [f"{sweep['key']}={v['value']}" for v in values]
    rows = []
    for i, agent in enumerate(values[0]["agents"][:200]):
        rows.append([agent["name"]] + [f"{v['agents'][i]['final']} ({v['agents'][i]['net']})"
                                       for v in values])
    for kind in ("burst", "hourly", "daily"):
        rows.append([f"{kind} refusals"] + [v["rate_limit_refusals"][kind] for v in values])
    return [f"<h2>Sweep of {escape(sweep['key'])}: final balance (net), mean of "
            f"{sweep['runs_per_value']} run(s)</h2>", _table(headers, rows)]


def write_html(path: Path, payload: dict[str, Any], charts: list[tuple[str, Path]]) -> None:
    """The report page: the parameters, the tables, then every chart."""
    title = f"Token exchange simulation: {payload['scenario']}"
    intro = (f"{payload['hours']} hours from {payload['start']}; seed {payload['seed']}"
             + (f"; {payload['summary']['runs']} runs" if "summary" in payload else ""))
    parts = [f"<h1>{escape(title)}</h1>", f"<p>{escape(intro)}</p>"]
    if "sweep" in payload:
        parts += _sweep_sections(payload["sweep"])
    if "summary" in payload:
        parts += _summary_sections(payload["summary"])
    if "agents" in payload and "model_usage" in payload:
        if "summary" in payload or "sweep" in payload:
            parts.append(f"<h2>First run in detail (seed {payload['seed']})</h2>")
        parts += _run_sections(payload)
    parts.append("<h2>Charts</h2>")
    parts += [_image(file, alt) for alt, file in charts]
    page = (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
            + "\n".join(parts) + "</body></html>\n")
    path.write_text(page, encoding="utf-8")
