"""The seed's core commands: init, status, balance, history, commit, llm, award,
limits, doctor."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import typer

from ..api import ExchangeAPI
from ..economy.records import AgentStatus, Charge, HistoryEntry, Limits, Wallet
from ..errors import EXIT_INTEGRITY, IntegrityError, InvalidInput, Refused
from ..formats.json_codec import to_json
from ..ledger import redact
from ..service.home import find_home
from ..service.lifecycle import init_exchange
from . import replies
from .advice import binding_limit, llm_hint
from .arguments import Agent, Amount, Description, IdempotencyKey, InferenceTokens, TaskType
from .options import ExchangeOptions, exchange_options, open_from, respond
from .output import (
    compact,
    count,
    emit_error,
    emit_json,
    signed,
    stderr,
    stdout,
    table,
    tokens,
    when,
)

ZERO = Decimal(0)


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
def balance(agent: Agent, *, opts: ExchangeOptions) -> None:
    """Show an agent's wallet: tokens, earned and spent.

    Example: token-exchange balance claude
    """
    respond(opts, lambda ex: ex.balance(agent), _print_wallet)


@exchange_options
def history(
    agent: Agent,
    limit: Annotated[int, typer.Option("--limit", "-n", metavar="N",
                                       help="How many transactions, newest first.")] = 20,
    *, opts: ExchangeOptions,
) -> None:
    """An agent's transactions, newest first.

    Example: token-exchange history builder --limit 5
    """
    respond(opts, lambda ex: ex.history(agent, limit), lambda rows: _print_history(agent, rows),
            json_as=lambda rows: {"agent": agent, "transactions": to_json(rows)})


@exchange_options
def commit(
    author_email: Annotated[str, typer.Argument(
        metavar="AUTHOR_EMAIL", show_default=False,
        help="The commit's author: an agent's configured email, or <agent>@anything.")],
    project: Annotated[str, typer.Argument(
        metavar="PROJECT", show_default=False,
        help="The project; the first contract whose pattern matches it sets the multiplier "
        "(none matches: the default contract).")],
    message: Annotated[str, typer.Argument(
        metavar="MESSAGE", show_default=False,
        help="The commit message; keywords (fix, feat, security, …) set the bonus.")],
    sha: Annotated[str | None, typer.Option(
        "--sha", metavar="SHA", help="The commit's full SHA (40 or 64 hex): a commit pays "
        "once; sending it again says it was already paid.")] = None,
    *, opts: ExchangeOptions,
) -> None:
    """Pay a git commit: base rate × project multiplier × message bonus.

    Example: token-exchange commit claude@aygp-dr.ai nexushive-setup "hotfix: security patch"
    """
    respond(opts, lambda ex: ex.commit(author_email, project, message, sha),
            lambda paid: replies.payment(paid, f"commit {sha[:12]} to {project}" if sha
                                         else f"a commit to {project}"))


@exchange_options
def llm(
    agent: Agent,
    task_type: TaskType,
    token_count: InferenceTokens,
    model: Annotated[str | None, typer.Option(
        "--model", metavar="MODEL", help="Use this model (one priced in config.toml) instead "
        "of the agent's model for the task type.")] = None,
    idempotency_key: IdempotencyKey = None,
    *, opts: ExchangeOptions,
) -> None:
    """Spend tokens on an LLM request, under the burst, reserve, hourly and daily limits.

    The model is the agent's model for the task type (else its primary LLM), unless
    --model names one. A refusal says the largest request that would pass now.

    Example: token-exchange llm zero coding 5000
    """
    def spend(ex: ExchangeAPI) -> Charge:
        try:
            return ex.llm(agent, task_type, token_count, model, idempotency_key=idempotency_key)
        except Refused as exc:  # say what would pass, while the exchange is open
            hint = llm_hint(ex, agent, task_type, model)
            raise typer.Exit(emit_error(exc, opts.json, hint)) from None

    respond(opts, spend, replies.charge)


@exchange_options
def award(
    agent: Agent,
    amount: Amount,
    source: Annotated[str, typer.Argument(
        metavar="SOURCE", show_default=False,
        help="Who awards it (an integration's name), kept in the ledger.")],
    description: Description,
    idempotency_key: IdempotencyKey = None,
    *, opts: ExchangeOptions,
) -> None:
    """Award tokens to an agent directly (for integrations).

    Example: token-exchange award builder 150 beads-integration "Closed issue"
    """
    respond(opts, lambda ex: ex.award(agent, amount, source, description,
                                      idempotency_key=idempotency_key),
            lambda paid: replies.payment(paid, f"{description!r} from {source}"))


@exchange_options
def limits(agent: Agent, *, opts: ExchangeOptions) -> None:
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
    market = f", credit market {signed(wallet.market)}" if wallet.market else ""
    stdout.print(f"💰 {wallet.agent}: {tokens(wallet.tokens)} tokens "
                 f"(earned {tokens(wallet.earned)}, spent {tokens(wallet.spent)}{market})")


def _print_history(agent: str, entries: list[HistoryEntry]) -> None:
    grid = table(f"{agent}: last {count(len(entries), 'transaction')}", "Time", "Type",
                 "Amount", "Description", "Project", right=("Amount",))
    for e in entries:
        grid.add_row(when(e.at), e.type, signed(e.amount), e.description, e.project or "")
    stdout.print(grid)


def _print_limits(view: Limits) -> None:
    grid = table(f"Rate limits for {view.agent} (wallet {tokens(view.tokens)} tokens)",
                 "Limit", "Used", "Allowed", "Left", right=("Used", "Allowed", "Left"))
    grid.add_row("hourly (rolling 60 min)", tokens(view.hourly_used), tokens(view.hourly_limit),
                 tokens(max(view.hourly_limit - view.hourly_used, ZERO)))
    grid.add_row("daily (rolling 24 h)", tokens(view.daily_used), tokens(view.daily_limit),
                 tokens(max(view.daily_limit - view.daily_used, ZERO)))
    grid.add_row("burst (one request)", "", tokens(view.burst_limit), "")
    grid.add_row("reserve (kept back in the wallet)", "", f"{tokens(view.reserve)} kept",
                 tokens(max(view.tokens - view.reserve, ZERO)))
    stdout.print(grid)
    stdout.print(f"Largest spend allowed now: {tokens(view.headroom)} tokens (set by "
                 f"{binding_limit(view)}). Refusals: {view.refusals_last_hour:,} in the last "
                 f"hour, {view.refusals_last_day:,} in the last day.")
    for refusal in view.recent_refusals:
        stdout.print(f"  [{when(refusal.at)}] 🚫 {refusal.message}", markup=False)
