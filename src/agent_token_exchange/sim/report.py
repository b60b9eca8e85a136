"""One run's figures as JSON, a CSV of every transfer, and console tables in the seed's
shape (final balances; model usage; rate-limit log; time-of-day blocks).

JSON amounts are exact decimal strings; nothing in it depends on the wall clock or a
temporary path, so the same seed and scenario give byte-identical output.
"""

from __future__ import annotations

import csv
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from ..clock import HOUR_US, iso_utc
from ..money import MICRO, format_amount, format_tokens
from .figures import RATE_LIMIT_KINDS, RunResult

SHOWN_EVENTS = 12


def run_json(result: RunResult) -> dict[str, Any]:
    """The figures of one run as plain JSON types (amounts as decimal strings)."""
    pooled_share = pooled_inference_tokens(result)
    return {
        "scenario": result.scenario,
        "seed": result.seed,
        "hours": result.hours,
        "start": iso_utc(result.start_us),
        "agents": [
            {
                "name": a.name, "start": format_amount(a.start),
                "earned": format_amount(a.earned), "spent": format_amount(a.spent),
                "final": format_amount(a.final), "net": format_amount(a.net),
                "level": a.level, "strategy": a.strategy,
                "reserve": format_amount(a.reserve),
                "lowest_balance": format_amount(a.min_balance),
                "commits": a.commits, "issues": a.issues, "requests": a.requests,
                "refusals": a.refusals,
            }
            for a in result.agents
        ],
        "model_usage": [
            {"agent": u.agent, "model": u.model, "pooled": u.pooled, "requests": u.requests,
             "inference_tokens": pooled_share.get((u.agent, u.model), 0) if u.pooled
             else u.inference_tokens, "spent": format_amount(u.spent)}
            for u in result.model_usage
        ],
        "rate_limit_events": [
            {"time": iso_utc(e.at), "agent": e.agent, "kind": e.kind, "message": e.message,
             "log": e.log}
            for e in result.rate_limit_events
        ],
        "refusal_counts": dict(sorted(Counter(r.kind for r in result.refusals).items())),
        "refusals_per_hour": refusals_per_hour(result),
        "blocks": [
            {"name": b.name, "hours": b.label, "commits": b.commits, "issues": b.issues,
             "requests": b.requests, "refused": b.refused, "earned": format_amount(b.earned),
             "spent": format_amount(b.spent)}
            for b in result.blocks
        ],
        "pools": [
            {**p, "contributed": {k: format_amount(v) for k, v in p["contributed"].items()},
             "spent": format_amount(p["spent"]), "refunded": format_amount(p["refunded"])}
            for p in result.pools
        ],
        "transactions": len(result.transfers),
        **({"credit": result.credit} if result.credit else {}),
    }


def pooled_inference_tokens(result: RunResult) -> dict[tuple[str, str], int]:
    """Each member's share of the inference tokens its pools bought, per model: a pool's
    tokens on a model split in proportion to what each member paid for that model there
    (largest remainders, so the shares add up to the pool's tokens exactly)."""
    tokens: Counter[str] = Counter()
    for t in result.transfers:
        if t.kind == "pool_spend" and t.model and t.inference_tokens:
            tokens[t.model] += t.inference_tokens
    shares: dict[tuple[str, str], int] = {}
    for model, total in tokens.items():
        paid = {u.agent: u.spent for u in result.model_usage if u.pooled and u.model == model}
        whole = sum(paid.values())
        if not whole:
            continue
        exact = {agent: total * spent // whole for agent, spent in paid.items()}
        left = total - sum(exact.values())
        for agent in sorted(paid, key=lambda a: -(total * paid[a] % whole))[:left]:
            exact[agent] += 1
        shares.update({(agent, model): n for agent, n in exact.items()})
    return shares


def refusals_per_hour(result: RunResult) -> list[dict[str, int]]:
    """For each hour of the run, its refusals counted by kind."""
    hours: list[Counter[str]] = [Counter() for _ in range(result.hours)]
    for refusal in result.refusals:
        hour = (refusal.at - result.start_us) // HOUR_US
        hours[min(hour, result.hours - 1)][refusal.kind] += 1
    return [dict(sorted(h.items())) for h in hours]


CSV_COLUMNS = ["seed", "seq", "time", "kind", "source", "destination", "amount", "project",
               "model", "inference_tokens", "pool_id", "description"]


def write_transactions_csv(path: Path, results: list[tuple[str, RunResult]]) -> None:
    """Every transfer of every run, one row each; ``label`` names the run (a sweep value)."""
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        with_label = any(label for label, _ in results)
        writer.writerow((["sweep_value"] if with_label else []) + CSV_COLUMNS)
        for label, result in results:
            for t in result.transfers:
                row = [result.seed, t.seq, iso_utc(t.at), t.kind, t.source, t.destination,
                       format_tokens(t.amount), t.project or "", t.model or "",
                       t.inference_tokens if t.inference_tokens is not None else "",
                       t.pool_id or "", t.description]
                writer.writerow(([label] if with_label else []) + row)


# -- console ----------------------------------------------------------------------------------


def whole(micro: int | Decimal, signed: bool = False) -> str:
    """Tokens rounded to whole numbers with separators, as the seed's table prints them."""
    value = (Decimal(micro) / MICRO).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    text = f"{abs(value):,}"
    sign = "-" if value < 0 else ("+" if signed and value > 0 else "")
    return sign + text


def _table(title: str, *columns: str, right: tuple[str, ...] = ()) -> Table:
    grid = Table(title=title, title_justify="left", header_style="bold")
    for column in columns:
        grid.add_column(column, justify="right" if column in right else "left")
    return grid


def _count(n: int, noun: str) -> str:
    """'1 refusal', '1,204 transactions'."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def print_run(console: Console, result: RunResult, *, max_agents: int = 30) -> None:
    agents = result.agents
    console.print(f"Simulation '{result.scenario}': {result.hours} hours from "
                  f"{iso_utc(result.start_us)}, seed {result.seed}, "
                  f"{_count(len(agents), 'agent')}, "
                  f"{_count(len(result.transfers), 'transaction')}")
    balances = _table("Final Balances", "Agent", "Start", "Earned", "Spent", "Final", "Net",
                      right=("Start", "Earned", "Spent", "Final", "Net"))
    for a in agents[:max_agents]:
        balances.add_row(a.name, whole(a.start), whole(a.earned), whole(a.spent),
                         whole(a.final), whole(a.net, signed=True))
    console.print(balances)
    if len(agents) > max_agents:
        console.print(f"… and {len(agents) - max_agents} more agents (see --json or --out)")

    usage = _table("Model Usage", "Agent", "Models", "Daily Spend", "Strategy",
                   right=("Daily Spend",))
    by_agent: dict[str, list[Any]] = {}
    for u in result.model_usage:
        by_agent.setdefault(u.agent, []).append(u)
    days = Decimal(result.hours) / 24
    for a in agents[:max_agents]:
        uses = sorted(by_agent.get(a.name, []), key=lambda u: -u.spent)
        models = ", ".join(f"{u.model}{' (pooled)' if u.pooled else ''} {whole(u.spent)}"
                           for u in uses) or "-"
        usage.add_row(a.name, models, "~" + whole(Decimal(a.spent) / days), a.strategy)
    console.print(usage)

    events = result.rate_limit_events
    console.print(f"Rate limiting: {_count(len(events), 'refusal')} "
                  f"({_kind_counts(result)})")
    for event in events[:SHOWN_EVENTS]:
        console.print("  " + event.log, markup=False)
    if len(events) > SHOWN_EVENTS:
        console.print(f"  … {len(events) - SHOWN_EVENTS} more")

    blocks = _table("Time of Day", "Hours", "Block", "Commits", "Issues", "Requests",
                    "Refused", "Earned", "Spent",
                    right=("Commits", "Issues", "Requests", "Refused", "Earned", "Spent"))
    for b in result.blocks:
        blocks.add_row(b.label, b.name, str(b.commits), str(b.issues), str(b.requests),
                       str(b.refused), whole(b.earned), whole(b.spent))
    console.print(blocks)
    for pool in result.pools[:5]:
        given = ", ".join(f"{k} {whole(v)}" for k, v in pool["contributed"].items())
        console.print(f"Pool {pool['id']} ({pool['name']}): contributions {given}; spent "
                      f"{whole(pool['spent'])} on {pool['requests']} requests; refunded "
                      f"{whole(pool['refunded'])}")
    if len(result.pools) > 5:
        console.print(f"… and {len(result.pools) - 5} more pools")
    if result.credit:
        _print_credit(console, result.credit)


def _print_credit(console: Console, credit: dict[str, Any]) -> None:
    """The credit market's day: what happened how often, the flows, and the vote."""
    counts = ", ".join(f"{n} {what}" for what, n in credit["counts"].items()) or "nothing"
    console.print(f"Credit market: {counts}")
    flows = ", ".join(f"{what} {whole(Decimal(amount) * MICRO)}"
                      for what, amount in credit["flows"].items())
    if flows:
        console.print(f"  flows: {flows}")
    vote = credit.get("vote") or {}
    if vote:
        tally = ", ".join(f"{agent} {choice}" for agent, choice in vote["votes"].items())
        console.print(f"  vote {vote['id']}: {vote['parameter']} = {vote['value']} "
                      f"(proposed by {vote['proposer']}; {tally}): {vote['outcome']}")
        for event in vote.get("events", []):
            console.print(f"    {event['time']} {event['detail']}", markup=False)


def _kind_counts(result: RunResult) -> str:
    counts = Counter(r.kind for r in result.refusals)
    shown = [f"{counts[k]} {k}" for k in RATE_LIMIT_KINDS]
    others = sum(v for k, v in counts.items() if k not in RATE_LIMIT_KINDS)
    return ", ".join(shown) + (f"; {others} other refusals" if others else "")
