"""The seed's core commands: init, status, balance, history, commit, llm, award,
limits, doctor."""

from __future__ import annotations

from typing import Annotated

import typer

from ..clock import iso_utc
from ..economy.records import AgentStatus, Charge, HistoryEntry, Limits, Payment, Wallet
from ..errors import EXIT_INTEGRITY, IntegrityError, InvalidInput
from ..formats.json_codec import to_json
from ..ledger import redact
from ..money import display_amount, micro
from ..service.home import find_home
from ..service.lifecycle import init_exchange
from .options import ExchangeOptions, exchange_options, open_from, respond
from .output import compact, emit_json, short_time, signed, stderr, stdout, table, tokens


def register(app: typer.Typer) -> None:
    for command in (init, status, balance, history, commit, llm, award, limits, doctor):
        settings = {"ignore_unknown_options": True} if command in (llm, award) else {}
        app.command(context_settings=settings)(command)


@exchange_options
def init(*, opts: ExchangeOptions) -> None:
    """Create an exchange here (or at --home): config, database and start balances.

    Writes .exchange/config.toml (the seed's rules, commented: edit it to change the
    economy) and .exchange/exchange.db, and mints every agent's start balance.

    Example: token-exchange init --home ~/team
    """
    if opts.server:
        raise InvalidInput("init creates a local exchange; drop --server")
    paths = find_home(opts.home, for_init=True)
    existed = paths.exists()
    init_exchange(paths.home, database=opts.database)
    database = paths.database_url()
    if opts.json:
        emit_json({"home": str(paths.home), "config": str(paths.config),
                   "database": redact(database) if database else str(paths.database),
                   "created": not existed})
    elif existed:
        stdout.print(f"Exchange already initialised at {paths.state}; nothing changed.")
    else:
        stdout.print(f"✅ Initialised exchange at {paths.state}")
        stdout.print(f"   Rules: {paths.config} (edit it to change the economy)")


@exchange_options
def status(*, opts: ExchangeOptions) -> None:
    """Every agent: tokens, earned, spent, and rate limits used.

    Example: token-exchange status
    """
    respond(opts, lambda ex: ex.status(), _print_status,
            json_as=lambda rows: {"agents": to_json(rows)})


@exchange_options
def balance(agent: str, *, opts: ExchangeOptions) -> None:
    """Show an agent's wallet: tokens, earned and spent.

    Example: token-exchange balance claude
    """
    respond(opts, lambda ex: ex.balance(agent), _print_wallet)


@exchange_options
def history(
    agent: str,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many transactions.")] = 20,
    *, opts: ExchangeOptions,
) -> None:
    """An agent's transactions, newest first.

    Example: token-exchange history builder --limit 5
    """
    respond(opts, lambda ex: ex.history(agent, limit), lambda rows: _print_history(agent, rows),
            json_as=lambda rows: {"agent": agent, "transactions": to_json(rows)})


@exchange_options
def commit(
    author_email: str,
    project: str,
    message: str,
    sha: Annotated[str | None, typer.Option("--sha", help="Commit SHA: pays once per SHA.")] = None,
    *, opts: ExchangeOptions,
) -> None:
    """Pay a git commit: base rate × project multiplier × message bonus.

    Example: token-exchange commit claude@aygp-dr.ai nexushive-setup "hotfix: security patch"
    """
    respond(opts, lambda ex: ex.commit(author_email, project, message, sha),
            lambda paid: _print_commit(paid, project))


@exchange_options
def llm(
    agent: str,
    task_type: str,
    token_count: str,
    model: Annotated[str | None, typer.Option("--model", help="Use this model instead of "
                                              "the agent's preference.")] = None,
    *, opts: ExchangeOptions,
) -> None:
    """Spend tokens on an LLM request, under the burst, reserve, hourly and daily limits.

    The model is the agent's preference for the task type (else its primary LLM),
    unless --model names one.

    Example: token-exchange llm zero coding 5000
    """
    respond(opts, lambda ex: ex.llm(agent, task_type, token_count, model), _print_charge)


@exchange_options
def award(
    agent: str,
    amount: str,
    source: str,
    description: str,
    *, opts: ExchangeOptions,
) -> None:
    """Award tokens to an agent directly (for integrations).

    Example: token-exchange award builder 150 beads-integration "Closed issue"
    """
    respond(opts, lambda ex: ex.award(agent, amount, source, description),
            lambda paid: _print_award(paid, source))


@exchange_options
def limits(agent: str, *, opts: ExchangeOptions) -> None:
    """An agent's rate limits: hourly and daily use, burst, reserve, recent refusals.

    Example: token-exchange limits claude
    """
    respond(opts, lambda ex: ex.limits(agent), _print_limits)


@exchange_options
def doctor(
    fix: Annotated[bool, typer.Option("--fix", help="Rebuild derived figures from the "
                                      "transfers (never changes a transfer).")] = False,
    *, opts: ExchangeOptions,
) -> None:
    """Check every ledger invariant; exit 3 when one is broken.

    Checks conservation, cached balances against transfers, floors, pools, idempotency
    records and rate-limit windows.

    Example: token-exchange doctor --fix
    """
    with open_from(opts) as ex:
        report = ex.doctor(fix=fix)
    failed = len(report.errors)
    if opts.json:
        payload = to_json(report)
        if failed:
            payload["error"] = {"code": IntegrityError.code,
                                "message": f"{failed} invariant check(s) failed"}
        emit_json(payload, ok=not failed)
    else:
        marks = {"info": "✅", "warning": "⚠️ ", "error": "❌"}
        for finding in report.findings:
            mark = "🔧" if finding.fixed else marks["info" if finding.ok else finding.severity]
            stdout.print(f"{mark} {finding.check}: {finding.message}", markup=False)
        if failed:
            stderr.print(f"integrity problem: {failed} invariant check(s) failed", markup=False)
    if failed:
        raise typer.Exit(EXIT_INTEGRITY)


# -- what each command prints without --json ------------------------------------------------


def _print_status(rows: list[AgentStatus]) -> None:
    grid = table("Agent Token Exchange", "Agent", "Level", "Tokens", "Earned", "Spent",
                 "Hourly used", "Daily used", right=("Tokens", "Earned", "Spent",
                                                    "Hourly used", "Daily used"))
    for row in rows:
        grid.add_row(row.agent, f"L{row.level}", tokens(row.tokens), tokens(row.earned),
                     tokens(row.spent), f"{compact(row.hourly_used)}/{compact(row.hourly_limit)}",
                     f"{compact(row.daily_used)}/{compact(row.daily_limit)}")
    stdout.print(grid)


def _print_wallet(wallet: Wallet) -> None:
    stdout.print(f"💰 {wallet.agent}: {tokens(wallet.tokens)} tokens "
                 f"(earned {tokens(wallet.earned)}, spent {tokens(wallet.spent)})")


def _print_history(agent: str, entries: list[HistoryEntry]) -> None:
    grid = table(f"{agent}: last {len(entries)} transactions", "Time", "Type", "Amount",
                 "Description", "Project", right=("Amount",))
    for e in entries:
        grid.add_row(short_time(e.at), e.type, signed(e.amount), e.description, e.project or "")
    stdout.print(grid)


def _print_commit(paid: Payment, project: str) -> None:
    stdout.print(f"✅ {paid.agent} earned {tokens(paid.amount)} tokens for a commit to "
                 f"{project} (balance {tokens(paid.tokens)})"
                 + (f" — {paid.note}" if paid.note else ""))


def _print_charge(charge: Charge) -> None:
    stdout.print(f"✅ {charge.agent} used {display_amount(micro(charge.amount))} tokens on "
                 f"{charge.model} for {charge.inference_tokens} tokens "
                 f"(balance {tokens(charge.tokens)})")


def _print_award(paid: Payment, source: str) -> None:
    stdout.print(f"✅ {paid.agent} was awarded {tokens(paid.amount)} tokens by {source} "
                 f"(balance {tokens(paid.tokens)})")


def _print_limits(view: Limits) -> None:
    grid = table(f"Rate limits for {view.agent}", "Limit", "Used", "Allowed",
                 right=("Used", "Allowed"))
    grid.add_row("hourly (rolling 60 min)", tokens(view.hourly_used), tokens(view.hourly_limit))
    grid.add_row("daily (rolling 24 h)", tokens(view.daily_used), tokens(view.daily_limit))
    grid.add_row("burst (one request)", "", tokens(view.burst_limit))
    grid.add_row("reserve (kept back)", tokens(view.tokens), tokens(view.reserve))
    stdout.print(grid)
    stdout.print(f"Largest spend allowed now: {tokens(view.headroom)} tokens. "
                 f"Refusals: {view.refusals_last_hour} in the last hour, "
                 f"{view.refusals_last_day} in the last day.")
    for refusal in view.recent_refusals:
        stdout.print(f"  [{iso_utc(refusal.at)}] 🚫 {refusal.message}", markup=False)
