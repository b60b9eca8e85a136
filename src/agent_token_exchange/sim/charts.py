"""PNG charts of a simulation (matplotlib, Agg backend: no display needed).

Charts are pictures for people; the floats here never feed back into any figure.
matplotlib is imported only when a chart is drawn, so plain runs stay fast.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..clock import HOUR_US
from ..money import MICRO
from .engine import RATE_LIMIT_KINDS, RunResult
from .report import refusals_per_hour

MAX_LINES = 12
KIND_COLOURS = {"burst": "#d62728", "hourly": "#ff7f0e", "daily": "#9467bd",
                "reserve": "#8c564b", "funds": "#7f7f7f", "budget": "#bcbd22",
                "not_allowed": "#17becf"}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> None:
    fig.tight_layout()
    # No timestamp or version in the file: the same run draws the same bytes.
    fig.savefig(path, dpi=100, metadata={"Software": None})
    _pyplot().close(fig)


def _tokens(micro: int | float) -> float:
    return micro / MICRO


def balance_chart(result: RunResult, path: Path) -> None:
    """Each agent's balance through the run; many agents: the mean of each kind."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(10, 5))
    series = result.balance_series
    end_hour = result.hours
    if len(result.agents) <= MAX_LINES:
        groups = {a.name: [a.name] for a in result.agents}
        title = "Balance through the run"
    else:
        groups = defaultdict(list)
        for a in result.agents:
            groups[a.template].append(a.name)
        title = "Mean balance through the run, per kind of agent"
    for label, members in groups.items():
        xs, ys = _mean_steps([series[m] for m in members], result.start_us, end_hour)
        ax.step(xs, ys, where="post", label=label)
    reserve = _tokens(result.agents[0].reserve)
    ax.axhline(reserve, color="grey", linestyle=":", label="reserve")
    ax.set(title=title, xlabel="hours since start", ylabel="tokens", xlim=(0, end_hour))
    ax.legend(loc="upper left", fontsize="small", ncol=2)
    ax.grid(alpha=0.3)
    _save(fig, path)


def _mean_steps(all_points: list[list[tuple[int, int]]], start_us: int,
                hours: int) -> tuple[list[float], list[float]]:
    """The mean of several step series, sampled at every change (and at the end)."""
    if len(all_points) == 1:
        points = all_points[0]
        xs = [(at - start_us) / HOUR_US for at, _ in points] + [float(hours)]
        ys = [_tokens(b) for _, b in points] + [_tokens(points[-1][1]) if points else 0.0]
        return xs, ys
    # Sample each series on a 5-minute grid: plenty for a picture, bounded for 1,000s.
    steps = hours * 12
    grid = [start_us + i * HOUR_US // 12 for i in range(steps + 1)]
    totals = [0] * len(grid)
    for points in all_points:
        i, current = 0, 0
        for g, at in enumerate(grid):
            while i < len(points) and points[i][0] <= at:
                current = points[i][1]
                i += 1
            totals[g] += current
    n = len(all_points)
    return [i / 12 for i in range(steps + 1)], [_tokens(t / n) for t in totals]


def spend_by_model_chart(result: RunResult, path: Path) -> None:
    """Tokens spent on each model, stacked by agent (or kind of agent when many)."""
    plt = _pyplot()
    template = {a.name: a.template for a in result.agents}
    by_group = len(result.agents) > MAX_LINES
    spend: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for u in result.model_usage:
        who = template[u.agent] if by_group else u.agent
        spend[who][u.model + (" (pooled)" if u.pooled else "")] += u.spent
    models = sorted({m for per in spend.values() for m in per})
    fig, ax = plt.subplots(figsize=(10, 5))
    bottoms = [0.0] * len(models)
    for who, per in spend.items():
        heights = [_tokens(per.get(m, 0)) for m in models]
        ax.bar(models, heights, bottom=bottoms, label=who)
        bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
    ax.set(title="Spend by model", ylabel="tokens")
    ax.tick_params(axis="x", labelrotation=20)
    if spend:
        ax.legend(fontsize="small", ncol=2)
    ax.grid(axis="y", alpha=0.3)
    _save(fig, path)


def refusals_chart(result: RunResult, path: Path) -> None:
    """Refusals in each hour of the run, stacked by kind."""
    plt = _pyplot()
    per_hour = refusals_per_hour(result)
    kinds = [k for k in KIND_COLOURS if any(k in h for h in per_hour)]
    fig, ax = plt.subplots(figsize=(10, 4))
    hours = list(range(result.hours))
    bottoms = [0] * result.hours
    for kind in kinds:
        heights = [h.get(kind, 0) for h in per_hour]
        ax.bar(hours, heights, bottom=bottoms, label=kind, color=KIND_COLOURS[kind])
        bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
    ax.set(title="Refusals per hour", xlabel="hour since start", ylabel="refusals")
    ax.yaxis.get_major_locator().set_params(integer=True)
    if kinds:
        ax.legend(fontsize="small")
    ax.grid(axis="y", alpha=0.3)
    _save(fig, path)


def runs_chart(summary: dict[str, Any], path: Path) -> None:
    """Mean earned, spent and final per agent over the runs, with ±1 standard deviation."""
    plt = _pyplot()
    spread = summary["spread"][:MAX_LINES * 3]
    names = [s["name"] for s in spread]
    fig, ax = plt.subplots(figsize=(10, 5))
    width = 0.27
    for offset, figure in enumerate(("earned", "spent", "net")):
        means = [float(Decimal(s[figure]["mean"])) for s in spread]
        errors = [float(Decimal(s[figure]["stdev"])) for s in spread]
        xs = [i + (offset - 1) * width for i in range(len(names))]
        ax.bar(xs, means, width, yerr=errors, capsize=3, label=figure)
    ax.set_xticks(range(len(names)), names, rotation=20)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set(title=f"Mean over {summary['runs']} runs (±1 standard deviation)", ylabel="tokens")
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    _save(fig, path)


def sweep_chart(sweep: dict[str, Any], path: Path) -> None:
    """Each agent's mean final balance, and rate-limit refusals, per swept value."""
    plt = _pyplot()
    values = sweep["values"]
    labels = [v["value"] for v in values]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 8), sharex=True)
    names = [a["name"] for a in values[0]["agents"]][:MAX_LINES]
    for i, name in enumerate(names):
        top.plot(labels, [float(Decimal(v["agents"][i]["final"])) for v in values],
                 marker="o", label=name)
    top.set(title=f"Final balance by {sweep['key']}", ylabel="tokens (mean)")
    top.legend(fontsize="small", ncol=2)
    top.grid(alpha=0.3)
    for kind in RATE_LIMIT_KINDS:
        bottom.plot(labels, [float(Decimal(v["rate_limit_refusals"][kind])) for v in values],
                    marker="o", label=kind, color=KIND_COLOURS[kind])
    bottom.set(title="Rate-limit refusals per run", xlabel=sweep["key"], ylabel="refusals")
    bottom.legend(fontsize="small")
    bottom.grid(alpha=0.3)
    _save(fig, path)


def run_charts(result: RunResult, out: Path) -> list[str]:
    """Draw the three charts of one run into ``out``; returns their file names."""
    drawn = [("balance.png", balance_chart), ("spend_by_model.png", spend_by_model_chart),
             ("refusals_per_hour.png", refusals_chart)]
    for name, draw in drawn:
        draw(result, out / name)
    return [name for name, _ in drawn]
