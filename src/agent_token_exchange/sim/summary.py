"""Many runs: the mean and spread of every figure over seeds (``--runs``), and the
figures per value of one config key (``--sweep``).

Statistics are computed exactly in Decimal from integer micro-tokens, then rounded to
the micro-token, so the JSON stays byte-identical for the same inputs.
"""

from __future__ import annotations

from collections import Counter
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

from rich.console import Console

from ..clock import iso_utc
from ..money import MICRO, format_amount
from .figures import RATE_LIMIT_KINDS, RunResult
from .report import _table, whole

FIGURES = ("start", "earned", "spent", "final", "net")


def stats(values: list[int]) -> dict[str, Decimal]:
    """mean, stdev (sample, 0 for one value), min and max, exact then rounded."""
    with localcontext() as ctx:
        ctx.prec = 50
        n = len(values)
        mean = Decimal(sum(values)) / n
        var = sum((Decimal(v) - mean) ** 2 for v in values) / (n - 1) if n > 1 else Decimal(0)
        stdev = var.sqrt()
    return {"mean": mean, "stdev": stdev, "min": Decimal(min(values)),
            "max": Decimal(max(values))}


def _money(value: Decimal) -> str:
    return format_amount(int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP)))


def _count(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def agent_figures(result: RunResult, name: str) -> dict[str, int]:
    a = next(x for x in result.agents if x.name == name)
    return {"start": a.start, "earned": a.earned, "spent": a.spent, "final": a.final,
            "net": a.net}


def summarize(results: list[RunResult]) -> dict[str, Any]:
    """Mean and spread of every figure over the runs (all of one scenario)."""
    names = [a.name for a in results[0].agents]
    agents, spread = [], []
    for name in names:
        per_run = [agent_figures(r, name) for r in results]
        figure_stats = {f: stats([run[f] for run in per_run]) for f in FIGURES}
        agents.append({"name": name, **{f: _money(s["mean"]) for f, s in figure_stats.items()}})
        spread.append({"name": name, **{
            f: {k: _money(v) for k, v in s.items()} for f, s in figure_stats.items()}})
    refusals = []
    for name in names:
        for kind in RATE_LIMIT_KINDS:
            counts = [sum(1 for e in r.rate_limit_events if e.agent == name and e.kind == kind)
                      for r in results]
            if any(counts):
                s = stats(counts)
                refusals.append({"agent": name, "kind": kind,
                                 **{k: _count(v) for k, v in s.items()},
                                 "runs_with_any": sum(1 for c in counts if c)})
    blocks = []
    for i, block in enumerate(results[0].blocks):
        row: dict[str, Any] = {"name": block.name, "hours": block.label}
        for figure in ("commits", "issues", "requests", "refused"):
            row[figure] = {k: _count(v) for k, v in
                           stats([getattr(r.blocks[i], figure) for r in results]).items()}
        for figure in ("earned", "spent"):
            row[figure] = {k: _money(v) for k, v in
                           stats([getattr(r.blocks[i], figure) for r in results]).items()}
        blocks.append(row)
    position = {name: i for i, name in enumerate(names)}
    spent_by_key: dict[tuple[str, str, bool], list[int]] = {}
    for run_number, r in enumerate(results):
        for u in r.model_usage:
            per_run = spent_by_key.setdefault((u.agent, u.model, u.pooled), [0] * len(results))
            per_run[run_number] += u.spent
    usage = [
        {"agent": agent, "model": model, "pooled": pooled,
         "spent": {k: _money(v) for k, v in stats(spent_by_key[(agent, model, pooled)]).items()}}
        for agent, model, pooled in sorted(spent_by_key,
                                           key=lambda k: (position[k[0]], k[2], k[1]))
    ]
    in_red = Counter(a.name for r in results for a in r.agents if a.net < 0)
    richest = Counter(max(r.agents, key=lambda a: a.final).name for r in results)
    thriftiest = Counter(min(r.agents, key=lambda a: a.spent).name for r in results)
    return {
        "runs": len(results),
        "seeds": [r.seed for r in results],
        "agents": agents,
        "spread": spread,
        "rate_limits": refusals,
        "blocks": blocks,
        "model_usage": usage,
        "runs_in_red": {n: in_red[n] for n in names if in_red[n]},
        "runs_richest": {n: richest[n] for n in names if richest[n]},
        "runs_spending_least": {n: thriftiest[n] for n in names if thriftiest[n]},
        "runs_below_reserve": sum(1 for r in results
                                  if any(a.min_balance < a.reserve for a in r.agents)),
        "rate_limit_events": [
            {"seed": r.seed, "time": iso_utc(e.at), "agent": e.agent, "kind": e.kind,
             "message": e.message, "log": e.log}
            for r in results for e in r.rate_limit_events
        ][:1000],
    }


def sweep_json(key: str, values: list[Any], groups: list[list[RunResult]]) -> dict[str, Any]:
    """Per value of ``key``: the mean figures and refusal counts over its runs."""
    out = []
    for value, results in zip(values, groups, strict=True):
        summary = summarize(results)
        kinds = Counter(e.kind for r in results for e in r.rate_limit_events)
        out.append({
            "value": str(value), "agents": summary["agents"], "spread": summary["spread"],
            "rate_limit_refusals": {k: _count(Decimal(kinds[k]) / len(results))
                                    for k in RATE_LIMIT_KINDS},
            "rate_limit_spread": {
                k: {s: _count(v) for s, v in stats(
                    [sum(1 for e in r.rate_limit_events if e.kind == k) for r in results]
                ).items()} for k in RATE_LIMIT_KINDS},
            "runs_in_red": summary["runs_in_red"],
        })
    return {"key": key, "runs_per_value": len(groups[0]), "values": out}


# -- console --------------------------------------------------------------------------------


def print_summary(console: Console, summary: dict[str, Any], scenario: str, hours: int) -> None:
    runs = summary["runs"]
    seeds = summary["seeds"]
    console.print(f"Simulation '{scenario}': {runs} runs of {hours} hours "
                  f"(seeds {seeds[0]}-{seeds[-1]}): mean ± standard deviation")
    grid = _table("Final Balances over runs (start "
                  f"{whole(_micro(summary['spread'][0]['start']['mean']))})", "Agent", "Earned",
                  "Spent", "Final", "Net", "In red",
                  right=("Earned", "Spent", "Final", "Net", "In red"))
    for spread in summary["spread"][:30]:
        cells = [_pm(spread[f]) for f in FIGURES[1:]]
        cells[-1] = _pm(spread["net"], signed=True)
        grid.add_row(spread["name"], *cells,
                     f"{summary['runs_in_red'].get(spread['name'], 0)}/{runs}")
    console.print(grid)
    limits = _table("Rate-limit refusals per run", "Agent", "Kind", "Mean", "Stdev", "Min",
                    "Max", "Runs with any", right=("Mean", "Stdev", "Min", "Max", "Runs with any"))
    for row in summary["rate_limits"][:40]:
        limits.add_row(row["agent"], row["kind"], row["mean"], row["stdev"], row["min"],
                       row["max"], f"{row['runs_with_any']}/{runs}")
    console.print(limits)
    console.print("Richest at the end: " + _tally(summary["runs_richest"], runs)
                  + "; spent least: " + _tally(summary["runs_spending_least"], runs)
                  + f"; runs with an agent below its reserve: {summary['runs_below_reserve']}")


def print_sweep(console: Console, sweep: dict[str, Any], scenario: str, hours: int) -> None:
    values = sweep["values"]
    console.print(f"Simulation '{scenario}': {hours} hours, sweeping {sweep['key']} over "
                  f"{', '.join(v['value'] for v in values)} "
                  f"({sweep['runs_per_value']} run(s) per value; mean final balance and net)")
    columns = [v["value"] for v in values]
    grid = _table(f"Final balance (net) by {sweep['key']}", "Agent", *columns,
                  right=tuple(columns))
    names = [a["name"] for a in values[0]["agents"]][:30]
    for i, name in enumerate(names):
        cells = []
        for v in values:
            a = v["agents"][i]
            cells.append(f"{whole(_micro(a['final']))} ({whole(_micro(a['net']), signed=True)})")
        grid.add_row(name, *cells)
    for kind in RATE_LIMIT_KINDS:
        grid.add_row(f"{kind} refusals", *[v["rate_limit_refusals"][kind] for v in values])
    console.print(grid)


def _micro(text: str) -> int:
    return int(Decimal(text) * MICRO)


def _pm(figure: dict[str, str], signed: bool = False) -> str:
    mean, stdev = _micro(figure["mean"]), _micro(figure["stdev"])
    return f"{whole(mean, signed)} ± {whole(stdev)}"


def _tally(counts: dict[str, int], runs: int) -> str:
    return ", ".join(f"{name} {n}/{runs}" for name, n in
                     sorted(counts.items(), key=lambda kv: -kv[1])) or "-"
