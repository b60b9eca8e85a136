"""What ``token-exchange simulate`` does: one run, N runs, or a sweep of a config key;
then the JSON payload, the console tables, and (with an output directory) the CSV, the
charts and the HTML report."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from ..clock import iso_utc
from ..errors import InvalidInput
from . import charts
from .engine import RunResult, run_simulation
from .html_report import write_html
from .report import print_run, run_json, write_transactions_csv
from .scenario import Scenario, build_config, check_sweep_key, dotted_override
from .summary import print_summary, print_sweep, summarize, sweep_json

MAX_RUNS = 10_000


@dataclass(frozen=True)
class Plan:
    scenario: Scenario
    seed: int = 1
    hours: int | None = None
    runs: int = 1
    sweep_key: str | None = None
    sweep_values: tuple[Any, ...] = ()
    base_config: dict[str, Any] | None = None

    @property
    def run_hours(self) -> int:
        return self.hours or self.scenario.hours

    @property
    def total_runs(self) -> int:
        return self.runs * max(1, len(self.sweep_values))

    def check(self) -> None:
        """Refuse a bad plan before anything runs."""
        if not 1 <= self.runs <= MAX_RUNS:
            raise InvalidInput(f"--runs must be between 1 and {MAX_RUNS}, got {self.runs}")
        if self.hours is not None and not 1 <= self.hours <= 24 * 366:
            raise InvalidInput(f"--hours must be between 1 and 8784, got {self.hours}")
        if self.seed < 0:
            raise InvalidInput(f"--seed must be zero or positive, got {self.seed}")
        if self.sweep_key is not None:
            check_sweep_key(self.sweep_key, self.base_config)
            for value in self.sweep_values:
                build_config(self.scenario, dotted_override(self.sweep_key, value),
                             self.base_config)


@dataclass
class Outcome:
    payload: dict[str, Any]
    show: Callable[[Console], None]
    files: list[str]


def run_plan(plan: Plan, out: Path | None = None,
             progress: Callable[[int], None] | None = None) -> Outcome:
    """Run everything the plan asks; ``progress(hours_done)`` is told as hours pass."""
    plan.check()
    done = [0]

    def one(seed: int, overrides: dict[str, Any] | None = None) -> RunResult:
        base = done[0]

        def tick(hour: int, _hours: int) -> None:
            if progress is not None:
                progress(base + hour)

        result = run_simulation(plan.scenario, seed, hours=plan.hours,
                                config_overrides=overrides, progress=tick,
                                base_config=plan.base_config)
        done[0] = base + plan.run_hours
        return result

    seeds = [plan.seed + i for i in range(plan.runs)]
    if plan.sweep_key is not None:
        key = plan.sweep_key
        groups = [[one(s, dotted_override(key, v)) for s in seeds] for v in plan.sweep_values]
        return _sweep_outcome(plan, groups, out)
    results = [one(s) for s in seeds]
    if plan.runs == 1:
        return _single_outcome(plan, results[0], out)
    return _runs_outcome(plan, results, out)


def _header(plan: Plan) -> dict[str, Any]:
    return {"scenario": plan.scenario.name, "seed": plan.seed, "hours": plan.run_hours,
            "start": iso_utc(plan.scenario.start_us)}


def _single_outcome(plan: Plan, result: RunResult, out: Path | None) -> Outcome:
    payload = run_json(result)
    files: list[str] = []
    if out is not None:
        files = _write_files(out, payload, [("", result)], charts.run_charts(result, out))
    return Outcome(payload, lambda console: print_run(console, result), files)


def _runs_outcome(plan: Plan, results: list[RunResult], out: Path | None) -> Outcome:
    summary = summarize(results)
    payload = {**_header(plan), "runs": plan.runs, "agents": summary.pop("agents"),
               "rate_limit_events": summary.pop("rate_limit_events"), "summary": summary}
    files: list[str] = []
    if out is not None:
        first = run_json(results[0])
        names = charts.run_charts(results[0], out)
        charts.runs_chart({**summary, "runs": plan.runs}, out / "runs.png")
        page = {**first, "summary": {**summary, "runs": plan.runs}}
        files = _write_files(out, page, [("", r) for r in results], ["runs.png", *names],
                             json_payload=payload)

    def show(console: Console) -> None:
        print_summary(console, {**summary, "runs": plan.runs, "seeds": summary["seeds"]},
                      plan.scenario.name, plan.run_hours)

    return Outcome(payload, show, files)


def _sweep_outcome(plan: Plan, groups: list[list[RunResult]], out: Path | None) -> Outcome:
    assert plan.sweep_key is not None
    sweep = sweep_json(plan.sweep_key, list(plan.sweep_values), groups)
    events = [
        {"value": str(value), "seed": r.seed, "time": iso_utc(e.at), "agent": e.agent,
         "kind": e.kind, "message": e.message, "log": e.log}
        for value, group in zip(plan.sweep_values, groups, strict=True)
        for r in group for e in r.rate_limit_events
    ][:1000]
    payload = {**_header(plan), "runs": plan.runs, "sweep": sweep, "rate_limit_events": events}
    files: list[str] = []
    if out is not None:
        charts.sweep_chart(sweep, out / "sweep.png")
        labelled = [(str(v), r) for v, g in zip(plan.sweep_values, groups, strict=True)
                    for r in g]
        files = _write_files(out, payload, labelled, ["sweep.png"])
    return Outcome(payload, lambda console: print_sweep(console, sweep, plan.scenario.name,
                                                        plan.run_hours), files)


def _write_files(out: Path, page: dict[str, Any], runs: list[tuple[str, RunResult]],
                 chart_names: list[str], json_payload: dict[str, Any] | None = None) -> list[str]:
    write_transactions_csv(out / "transactions.csv", runs)
    body = json.dumps(json_payload if json_payload is not None else page, ensure_ascii=False,
                      indent=1)
    (out / "report.json").write_text(body + "\n", encoding="utf-8")
    write_html(out / "report.html", page, [(n, out / n) for n in chart_names])
    return ["report.html", "report.json", "transactions.csv", *chart_names]
