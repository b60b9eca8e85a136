"""PNG charts of a simulation (matplotlib, Agg backend: no display needed).

Charts are pictures for people; the floats here never feed back into any figure.
matplotlib is imported only inside the drawing functions, so a run without ``--out``
never loads it. Colours come from ``palette`` (shared with the dashboard); "exchange
tokens" are the exchange's currency, "inference tokens" what a model reads and writes.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..clock import HOUR_US
from ..money import MICRO
from . import palette
from .figures import RATE_LIMIT_KINDS, RunResult
from .report import pooled_inference_tokens

MAX_LINES = 12
EXCHANGE = "exchange tokens"
INFERENCE = "inference tokens"


# The look of every chart, set on matplotlib's defaults once it is loaded.
STYLE = {"font.size": 10, "axes.spines.top": False, "axes.spines.right": False,
         "axes.titleweight": "bold", "axes.titlelocation": "left"}


def _figure(**subplots: Any) -> tuple[Any, Any]:
    """A new figure on the Agg canvas (no pyplot, no display) and its axes.

    matplotlib's object-oriented API: pyplot's figure manager and state are never
    loaded, and nothing is kept once the figure is saved."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    matplotlib.rcParams.update(STYLE)
    figure = Figure(figsize=subplots.pop("figsize"))
    FigureCanvasAgg(figure)
    return figure, figure.subplots(**subplots)


def _save(fig: Any, path: Path) -> None:
    # No timestamp or version in the file: the same run draws the same bytes.
    fig.savefig(path, dpi=100, metadata={"Software": None}, bbox_inches="tight")


def _tokens(micro: int | float) -> float:
    return micro / MICRO


def _thousands(axis: Any, decimals: int = 0) -> None:
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.{decimals}f}"))


def _when(result: RunResult, at_us: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=at_us)


def _clock_axis(ax: Any, result: RunResult) -> None:
    """x is clock time (UTC), ticked every few hours, over exactly the run."""
    import matplotlib.dates as mdates

    start = _when(result, result.start_us)
    end = _when(result, result.start_us + result.hours * HOUR_US)
    step = max(1, result.hours // 8)
    ax.set_xlim(start, end)
    ax.xaxis.set_major_locator(mdates.HourLocator(interval=step, tz=UTC))
    ax.xaxis.set_major_formatter(mdates.DateFormatter(
        "%H:%M" if result.hours <= 24 else "%d %b\n%H:%M", tz=UTC))
    ax.set_xlabel(f"time of day (UTC), from {start:%Y-%m-%dT%H:%M:%SZ}")


def block_spans(result: RunResult) -> list[tuple[int, int, int, str]]:
    """(first hour since start, hours after the last, block index, name) for every stretch
    of the run spent in one time-of-day block."""
    of_hour: dict[int, int] = {}
    for index, block in enumerate(result.blocks):
        first, last = (int(h) for h in block.label.split("-"))
        for hour in range(first, last + 1):
            of_hour[hour] = index
    start_hour = (result.start_us // HOUR_US) % 24
    spans: list[tuple[int, int, int, str]] = []
    for h in range(result.hours):
        index = of_hour.get((start_hour + h) % 24, 0)
        if spans and spans[-1][2] == index and spans[-1][1] == h:
            spans[-1] = (spans[-1][0], h + 1, index, spans[-1][3])
        else:
            spans.append((h, h + 1, index, result.blocks[index].name if result.blocks else ""))
    return spans


def _shade_blocks(ax: Any, result: RunResult, *, names: bool = True) -> None:
    """The seed's time-of-day blocks as pale bands, named along the top."""
    for first, end, index, name in block_spans(result):
        left = _when(result, result.start_us + first * HOUR_US)
        right = _when(result, result.start_us + end * HOUR_US)
        ax.axvspan(left, right, color=palette.BLOCK_TINTS[index % len(palette.BLOCK_TINTS)],
                   zorder=0, linewidth=0)
        if names and end - first >= 3:
            ax.text(left + (right - left) / 2, 1.0, name, transform=ax.get_xaxis_transform(),
                    ha="center", va="bottom", fontsize=8, color=palette.MUTED)


def _groups(result: RunResult) -> tuple[dict[str, list[str]], bool]:
    """One line per agent, or per kind of agent when there are too many."""
    if len(result.agents) <= MAX_LINES:
        return {a.name: [a.name] for a in result.agents}, False
    groups: dict[str, list[str]] = defaultdict(list)
    for a in result.agents:
        groups[a.template].append(a.name)
    return dict(groups), True


def balance_chart(result: RunResult, path: Path) -> None:
    """Each agent's balance through the run against its start balance; many agents: the
    mean of each kind. The y axis spans the data, not zero, so the band is readable."""
    fig, ax = _figure(figsize=(11, 5.2))
    groups, grouped = _groups(result)
    _shade_blocks(ax, result)
    lows, highs = [], []
    for position, (label, members) in enumerate(groups.items()):
        xs, ys = _mean_steps([result.balance_series[m] for m in members], result)
        lows.append(min(ys))
        highs.append(max(ys))
        ax.step(xs, ys, where="post", linewidth=1.8, label=label,
                color=palette.agent_colour(label, position))
    for start in sorted({_tokens(a.start) for a in result.agents}):
        ax.axhline(start, color=palette.REFERENCE, linestyle="--", linewidth=1,
                   label=f"start balance ({start:,.0f})")
        lows.append(start)
        highs.append(start)
    reserve = _tokens(result.agents[0].reserve)
    if reserve >= min(lows) - (max(highs) - min(lows)) * 0.15:
        ax.axhline(reserve, color=palette.LOSS, linestyle=":", linewidth=1, label="reserve")
        lows.append(reserve)
    pad = (max(highs) - min(lows)) * 0.06 or 1.0
    ax.set_ylim(min(lows) - pad, max(highs) + pad)
    _clock_axis(ax, result)
    _thousands(ax.yaxis)
    title = ("Mean balance per kind of agent" if grouped else "Balance of each agent")
    ax.set_title(title + ": above the dashed line is richer than at the start", pad=18)
    ax.set_ylabel(EXCHANGE)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    ax.grid(axis="y", alpha=0.3)
    _save(fig, path)


def _mean_steps(all_points: list[list[tuple[int, int]]],
                result: RunResult) -> tuple[list[datetime], list[float]]:
    """The mean of several step series, sampled at every change (and at the end)."""
    end_us = result.start_us + result.hours * HOUR_US
    if len(all_points) == 1:
        points = all_points[0] or [(result.start_us, 0)]
        xs = [_when(result, at) for at, _ in points] + [_when(result, end_us)]
        return xs, [_tokens(b) for _, b in points] + [_tokens(points[-1][1])]
    # Sample each series on a 5-minute grid: plenty for a picture, bounded for 1,000s.
    grid = [result.start_us + i * HOUR_US // 12 for i in range(result.hours * 12 + 1)]
    totals = [0] * len(grid)
    for points in all_points:
        i, current = 0, 0
        for g, at in enumerate(grid):
            while i < len(points) and points[i][0] <= at:
                current = points[i][1]
                i += 1
            totals[g] += current
    n = len(all_points)
    return [_when(result, at) for at in grid], [_tokens(t / n) for t in totals]


def spend_by_model_chart(result: RunResult, path: Path) -> None:
    """What each agent spent on each model, in exchange tokens and in inference tokens.
    Both scales are logarithmic: llama3.2's few tokens show next to claude-opus's
    thousands."""
    groups, grouped = _groups(result)
    who_of = {m: label for label, members in groups.items() for m in members}
    order = list(groups)
    spent: dict[tuple[str, str], int] = Counter()
    used: dict[tuple[str, str], int] = Counter()
    shares = pooled_inference_tokens(result)  # a member's share of its pools' tokens
    for u in result.model_usage:
        key = (who_of[u.agent], u.model + (" (pooled)" if u.pooled else ""))
        spent[key] += u.spent
        used[key] += shares.get((u.agent, u.model), 0) if u.pooled else u.inference_tokens
    rows = sorted({k for k in spent if spent[k] > 0},
                  key=lambda k: (order.index(k[0]) if k[0] in order else len(order), k[1]))
    fig, (left, right) = _figure(nrows=1, ncols=2,
                                 figsize=(12, 0.42 * max(len(rows), 4) + 1.6), sharey=True)
    labels = [f"{who} · {model}" for who, model in rows]
    colours = [palette.agent_colour(who, order.index(who) if who in order else 0)
               for who, _ in rows]
    ys = list(range(len(rows)))
    values = [_tokens(spent[k]) for k in rows]
    left.barh(ys, values, color=colours)
    for y, v in zip(ys, values, strict=True):
        left.text(v, y, f" {v:,.2f}" if v < 10 else f" {v:,.0f}", va="center", fontsize=8)
    left.set_xscale("log")
    left.set_title(f"Spent per model\n({EXCHANGE}, log scale)")
    left.set_yticks(ys, labels)
    left.invert_yaxis()
    inference = [used.get(k, 0) for k in rows]
    right.barh(ys, [max(v, 0.1) for v in inference], color=colours)
    for y, v in zip(ys, inference, strict=True):
        right.text(max(v, 1), y, f" {v:,}", va="center", fontsize=8)
    right.set_xscale("log")
    right.set_title(f"Work asked of each model\n({INFERENCE}, log scale)")
    for ax in (left, right):
        ax.grid(axis="x", alpha=0.3)
        _thousands(ax.xaxis)
        ax.margins(x=0.25)
    if grouped:
        left.set_ylabel("kind of agent · model")
    _save(fig, path)


def refusals_chart(result: RunResult, path: Path) -> None:
    """Refusals in each hour of the run: above by agent, below by kind of refusal."""
    import matplotlib.dates as mdates

    groups, _ = _groups(result)
    who_of = {m: label for label, members in groups.items() for m in members}
    by_who: dict[str, list[int]] = defaultdict(lambda: [0] * result.hours)
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0] * result.hours)
    for r in result.refusals:
        hour = min((r.at - result.start_us) // HOUR_US, result.hours - 1)
        by_who[who_of.get(r.agent, "pools")][hour] += 1
        by_kind[r.kind][hour] += 1
    fig, (top, bottom) = _figure(nrows=2, ncols=1, figsize=(11, 6.4), sharex=True)
    centres = [_when(result, result.start_us + h * HOUR_US + HOUR_US // 2)
               for h in range(result.hours)]
    width = 0.8 / 24
    order = list(groups) + ["pools"]
    stacks = [(top, [(w, by_who[w], palette.agent_colour(w, order.index(w)))
                     for w in order if w in by_who]),
              (bottom, [(k, by_kind[k], palette.KIND_COLOURS.get(k, palette.MUTED))
                        for k in palette.KIND_COLOURS if k in by_kind])]
    for ax, series in stacks:
        _shade_blocks(ax, result, names=ax is top)
        bottoms = [0] * result.hours
        for label, heights, colour in series:
            ax.bar(centres, heights, width, bottom=bottoms, label=label, color=colour,
                   zorder=2)
            bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.set_ylabel("refusals")
        ax.grid(axis="y", alpha=0.3)
        if series:
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small",
                      frameon=False)
    total = len(result.refusals)
    top.set_title(f"Refusals per hour, by agent ({total:,} in all)", pad=18)
    bottom.set_title("… and by kind of refusal")
    _clock_axis(bottom, result)
    bottom.xaxis.set_major_locator(mdates.HourLocator(interval=max(1, result.hours // 8),
                                                      tz=UTC))
    _save(fig, path)


def activity_chart(result: RunResult, path: Path) -> None:
    """The day's rhythm: commits, issues closed and LLM requests per hour, and the
    exchange tokens earned and spent per hour, over the time-of-day blocks."""
    counts: dict[str, list[int]] = {k: [0] * result.hours for k in
                                    ("commit", "issue", "inference")}
    earned, spent = [0.0] * result.hours, [0.0] * result.hours
    for t in result.transfers:
        hour = (t.at - result.start_us) // HOUR_US
        if not 0 <= hour < result.hours or t.kind == "grant":
            continue
        if t.kind in counts:
            counts[t.kind][hour] += 1
        if t.kind in ("commit", "issue"):
            earned[hour] += float(t.amount)
        elif t.kind in ("inference", "pool_spend"):
            spent[hour] += float(t.amount)
    fig, (top, bottom) = _figure(nrows=2, ncols=1, figsize=(11, 6.4), sharex=True)
    third = HOUR_US // 4
    labels = {"commit": "commits", "issue": "issues closed", "inference": "LLM requests"}
    shades = {"commit": "#4d4d4d", "issue": "#999999", "inference": palette.KIND_COLOURS[
        "not_allowed"]}
    for offset, (kind, heights) in enumerate(counts.items()):
        xs = [_when(result, result.start_us + h * HOUR_US + (offset + 1) * third)
              for h in range(result.hours)]
        top.bar(xs, heights, 0.22 / 24, label=labels[kind], color=shades[kind], zorder=2)
    halves = [(earned, "earned (commits, issues)", palette.GAIN, 1),
              (spent, "spent on inference", palette.LOSS, 3)]
    for values, label, colour, quarter in halves:
        xs = [_when(result, result.start_us + h * HOUR_US + quarter * HOUR_US // 4)
              for h in range(result.hours)]
        bottom.bar(xs, values, 0.45 / 24, label=label, color=colour, zorder=2)
    for ax, ylabel in ((top, "per hour"), (bottom, f"{EXCHANGE} per hour")):
        _shade_blocks(ax, result, names=ax is top)
        ax.set_ylabel(ylabel)
        ax.grid(axis="y", alpha=0.3)
        _thousands(ax.yaxis)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small",
                  frameon=False)
    top.set_title("Activity through the day", pad=18)
    bottom.set_title("Exchange tokens earned and spent")
    _clock_axis(bottom, result)
    _save(fig, path)


def runs_chart(summary: dict[str, Any], path: Path) -> None:
    """Mean earned, spent and net per agent over the runs, with ±1 standard deviation;
    a net below zero is red."""
    spread = summary["spread"][:MAX_LINES * 3]
    names = [s["name"] for s in spread]
    fig, ax = _figure(figsize=(11, 5.2))
    width = 0.27
    looks = {"earned": "#9ecae1", "spent": "#bdbdbd"}
    for offset, figure in enumerate(("earned", "spent", "net")):
        means = [float(Decimal(s[figure]["mean"])) for s in spread]
        errors = [float(Decimal(s[figure]["stdev"])) for s in spread]
        xs = [i + (offset - 1) * width for i in range(len(names))]
        colours = ([palette.GAIN if m >= 0 else palette.LOSS for m in means]
                   if figure == "net" else looks[figure])
        ax.bar(xs, means, width, yerr=errors, capsize=3, color=colours, zorder=2,
               error_kw={"ecolor": palette.INK, "elinewidth": 0.8})
        if figure == "net":
            for x, m, e in zip(xs, means, errors, strict=True):
                ax.text(x, m + (e if m >= 0 else -e), f"{m:+,.0f}".replace("-", "−"),
                        ha="center",
                        va="bottom" if m >= 0 else "top", fontsize=8,
                        color=palette.GAIN if m >= 0 else palette.LOSS)
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color=looks["earned"], label="earned"),
                       Patch(color=looks["spent"], label="spent"),
                       Patch(color=palette.GAIN, label="net gain"),
                       Patch(color=palette.LOSS, label="net loss")],
              loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.set_xticks(range(len(names)), names, rotation=20 if len(names) > 8 else 0)
    ax.axhline(0, color=palette.INK, linewidth=0.8)
    seeds = summary.get("seeds") or []
    which = f"seeds {seeds[0]}–{seeds[-1]}" if len(seeds) > 1 else f"{summary['runs']} runs"
    ax.set_title(f"Mean over {summary['runs']} runs ({which}), ±1 standard deviation")
    ax.set_ylabel(EXCHANGE)
    _thousands(ax.yaxis)
    ax.grid(axis="y", alpha=0.3)
    _save(fig, path)


def sweep_chart(sweep: dict[str, Any], path: Path) -> None:
    """Each agent's mean final balance (±1 standard deviation), and rate-limit refusals
    per run, for each swept value."""
    values = sweep["values"]
    labels = [v["value"] for v in values]
    xs = list(range(len(labels)))
    fig, (top, bottom) = _figure(nrows=2, ncols=1, figsize=(11, 8.5), sharex=True)
    names = [a["name"] for a in values[0]["agents"]][:MAX_LINES]
    for i, name in enumerate(names):
        spread = [v["spread"][i]["final"] for v in values]
        top.errorbar(xs, [float(Decimal(s["mean"])) for s in spread],
                     yerr=[float(Decimal(s["stdev"])) for s in spread], marker="o",
                     capsize=3, label=name, color=palette.agent_colour(name, i))
    start = float(Decimal(values[0]["agents"][0]["start"]))
    top.axhline(start, color=palette.REFERENCE, linestyle="--", linewidth=1,
                label=f"start balance ({start:,.0f})")
    top.set_title(f"Final balance by {sweep['key']} (mean of {sweep['runs_per_value']} "
                  "run(s), ±1 standard deviation)")
    top.set_ylabel(EXCHANGE)
    _thousands(top.yaxis)
    for kind in RATE_LIMIT_KINDS:
        spread = [v.get("rate_limit_spread", {}).get(kind, {}) for v in values]
        bottom.errorbar(xs, [float(Decimal(v["rate_limit_refusals"][kind])) for v in values],
                        yerr=[float(Decimal(s.get("stdev", "0"))) for s in spread],
                        marker=palette.KIND_MARKERS[kind], linestyle="--", capsize=3,
                        label=f"{kind} limit", color=palette.KIND_COLOURS[kind])
    bottom.set_title("Rate-limit refusals per run, by limit (±1 standard deviation)")
    bottom.set_ylabel("refusals per run")
    bottom.set_xlabel(sweep["key"])
    bottom.set_xticks(xs, labels)
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small",
                  frameon=False)
    _save(fig, path)


def run_charts(result: RunResult, out: Path) -> list[str]:
    """Draw the charts of one run into ``out``; returns their file names."""
    drawn = [("balance.png", balance_chart), ("spend_by_model.png", spend_by_model_chart),
             ("refusals_per_hour.png", refusals_chart), ("activity.png", activity_chart)]
    for name, draw in drawn:
        draw(result, out / name)
    return [name for name, _ in drawn]

