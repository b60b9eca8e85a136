"""`token-exchange simulate`: the seed's 24-hour economy experiment on the real exchange,
in a throwaway database, with reports, charts, repeated runs and sweeps."""

from __future__ import annotations

import json as json_module
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import ConfigError, InvalidInput
from ..sim.experiment import Plan, run_plan
from ..sim.scenario import load_scenario, parse_sweep
from .options import ExchangeOptions, exchange_options
from .output import stderr, stdout

# A progress bar is drawn (on a terminal's stderr) once a plan has this many agent-hours.
PROGRESS_FROM_AGENT_HOURS = 2_000


# simulate never opens the exchange: --home only names the rules to simulate under.
ConfigHome = Annotated[Path | None, typer.Option(
    "--home", metavar="DIR", help="Simulate under this exchange's config.toml (read only: its "
    "database is never touched). Default: the built-in seed rules.", show_default=False)]


def register(app: typer.Typer) -> None:
    app.command()(simulate)


@exchange_options(home=ConfigHome, remote=False)
def simulate(
    hours: Annotated[int | None, typer.Option(
        "--hours", help="Simulated hours per run (default: the scenario's, 24).",
        show_default=False)] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the run (runs use seed, "
                                      "seed+1, ...).")] = 1,
    scenario: Annotated[Path | None, typer.Option(
        "--scenario", metavar="FILE|NAME", help="TOML scenario merged over the built-in seed "
        "scenario (agents' habits, time-of-day blocks, pools, [config] rule changes), or a "
        "shipped one by name: `credit` (loans, futures on beads issues, a governance vote).",
        show_default=False)] = None,
    runs: Annotated[int, typer.Option("--runs", help="Run N seeds and report the mean and "
                                      "spread of every figure.")] = 1,
    sweep: Annotated[str | None, typer.Option(
        "--sweep", metavar="KEY=V1,V2,...", help="Vary one config value, e.g. "
        "rate_limits.hourly=500,1000,2000; figures per value, with a chart.",
        show_default=False)] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", metavar="DIR", help="Write report.html, report.json, transactions.csv and "
        "PNG charts here.", show_default=False)] = None,
    *, opts: ExchangeOptions,
) -> None:
    """Simulate a day of the agent economy on the real exchange rules.

    Runs the seed's six agents (or your --scenario) through a simulated day on a
    simulated clock, in a throwaway database, and reports final balances, model usage,
    rate-limit events and activity per time of day. The same seed and scenario give the
    same figures.

    Example: token-exchange simulate --seed 7 --out sim-report

    Example: token-exchange simulate --scenario credit
    """
    base = _home_config(opts.home) if opts.home is not None else None
    chosen = load_scenario(scenario, base)
    key, values = (None, ()) if sweep is None else parse_sweep(sweep)
    plan = Plan(chosen, seed=seed, hours=hours, runs=runs, sweep_key=key,
                sweep_values=tuple(values), base_config=base)
    plan.check()
    if out is not None:
        _prepare_out(out)
    agents = chosen.population.agents or len(chosen.agents)
    total_hours = plan.total_runs * plan.run_hours
    with _progress(total_hours, enabled=agents * total_hours >= PROGRESS_FROM_AGENT_HOURS
                   ) as advance:
        outcome = run_plan(plan, out, progress=advance)
    if opts.json:
        payload: dict[str, Any] = {"ok": True, **outcome.payload}
        if outcome.files:
            payload["files"] = outcome.files
        stdout.file.write(json_module.dumps(payload, ensure_ascii=False) + "\n")
        return
    outcome.show(stdout)
    if outcome.files:
        stdout.print(f"Wrote {', '.join(outcome.files)} to {out}")


def _home_config(home: Path) -> dict[str, Any]:
    from ..service.home import paths_for

    path = paths_for(home).config
    try:
        return tomllib.loads(path.read_text("utf-8"), parse_float=Decimal)
    except FileNotFoundError:
        raise InvalidInput(f"no exchange config at {path}; run `token-exchange init --home "
                           f"{home}` or leave out --home") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: cannot read config ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def _prepare_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise InvalidInput(f"--out {out} exists and is not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(f"--out {out}: cannot create the directory ({exc.strerror})") from None


class _progress:
    """A Rich progress bar on stderr, counting simulated hours; silent (and not loaded)
    when not wanted or when stderr is no terminal."""

    def __init__(self, total: int, *, enabled: bool) -> None:
        self.total = total
        self.bar: Any = None
        if enabled and stderr.is_terminal:
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(TextColumn("simulating"), BarColumn(),
                                TextColumn("{task.completed}/{task.total} hours"),
                                TimeRemainingColumn(), console=stderr, transient=True)
            self.task = self.bar.add_task("simulate", total=total)

    def __enter__(self) -> Any:
        if self.bar is None:
            return lambda done: None
        self.bar.__enter__()
        return lambda done: self.bar.update(self.task, completed=done)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
