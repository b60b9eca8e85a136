"""`bd …`: rewards for closing beads issues (the seed's scripts/bd-token-hook)."""

from __future__ import annotations

import json as jsonlib
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from ..economy.rules import issue_reward_table
from ..errors import InvalidInput
from ..formats.json_codec import to_json
from ..integrations import beads
from ..integrations.git import repo_root
from ..integrations.githooks import hook_problem
from ..money import format_tokens
from ..money import tokens as as_tokens
from ..service.home import find_home
from . import replies
from .options import ExchangeOptions, command_group, exchange_options, open_from
from .output import count, emit_json, stdout, table, tokens

bd_app = command_group("bd", "Rewards for closing beads (bd) issues.")

Beads = Annotated[Path | None, typer.Option(
    "--beads", metavar="PATH", help="A .beads folder or issues.jsonl file (default: bd --json "
    "when bd is on PATH, else the nearest .beads/issues.jsonl).")]
IssueId = Annotated[str, typer.Argument(
    metavar="ISSUE_ID", show_default=False, help="A beads issue id, like bd-09kt.")]
Agent = Annotated[str | None, typer.Option(
    "--agent", metavar="AGENT", help="Pay this agent when the assignee maps to none "
    "(default: $TOKEN_EXCHANGE_AGENT).")]


@bd_app.command("rewards")
@exchange_options
def rewards(*, opts: ExchangeOptions) -> None:
    """The reward table: priority bases, type multipliers, what earns nothing.

    Example: token-exchange bd rewards
    """
    with open_from(opts) as ex:
        config = ex.config
    rules = config.issues
    table_rows = issue_reward_table(config)
    if opts.json:
        emit_json({
            "priority_rewards": {row.priority: format_tokens(as_tokens(row.base))
                                 for row in table_rows},
            "p0_pays_as": f"P{rules.p0_pays_as}",
            "type_multipliers": {k: str(v) for k, v in rules.type_multipliers.items()},
            "no_reward_types": list(rules.no_reward_types),
            "failure_reasons": list(rules.failure_reasons),
        })
        return
    grid = table("Issue rewards (priority base × type multiplier)", "Priority", "Base",
                 *rules.type_multipliers, right=("Base", *rules.type_multipliers))
    for row in table_rows:
        grid.add_row(row.priority, tokens(as_tokens(row.base)),
                     *(tokens(as_tokens(row.by_type[kind])) for kind in rules.type_multipliers))
    stdout.print(grid)
    stdout.print(f"P0 pays as P{rules.p0_pays_as}; other types ×1.0; a label naming a type "
                 "counts. Nothing for: " + ", ".join(rules.no_reward_types) + ", tombstones, "
                 "and closes reading as failures (" + ", ".join(rules.failure_reasons[:5])
                 + ", …).", markup=False)


@bd_app.command("preview")
@exchange_options
def preview(issue_id: IssueId, agent: Agent = None, beads_path: Beads = None, *,
            opts: ExchangeOptions) -> None:
    """What closing an issue pays, to whom, and why.

    Example: token-exchange bd preview bd-09kt --agent claude
    """
    tracker = beads.Tracker(beads_path)
    with open_from(opts) as ex:
        view = beads.preview(ex, tracker.issue(issue_id), _payees(agent))
    if opts.json:
        emit_json(to_json(view))
        return
    who = view.agent or "nobody"
    stdout.print(f"{view.issue.id} ({view.issue.status}) {view.issue.title}", markup=False)
    stdout.print(f"  pays {tokens(view.reward)} tokens to {who}: {view.reason}; "
                 f"{view.paid_to}", markup=False)


@bd_app.command("preview-all")
@exchange_options
def preview_all(agent: Agent = None, beads_path: Beads = None, *, opts: ExchangeOptions) -> None:
    """Every open issue with its reward, and totals per assignee.

    Example: token-exchange bd preview-all --json
    """
    tracker = beads.Tracker(beads_path)
    issues = tracker.all_issues()
    with open_from(opts) as ex:
        views = [beads.preview(ex, issue, _payees(agent)) for issue in issues if issue.open]
    totals = beads.totals_by_assignee(views)
    total = sum(v.reward for v in views)
    if opts.json:
        emit_json({"source": tracker.source, "lines": tracker.lines_read(),
                   "issues_read": len(issues), "open": len(views),
                   "issues": [to_json(v) for v in views],
                   "totals": [to_json(t) for t in totals],
                   "total": format_tokens(total)})
        return
    grid = table(f"{len(views)} open issues of {len(issues)}", "Issue", "P", "Type",
                 "Assignee", "Agent", "Reward", right=("Reward",))
    for v in views:
        grid.add_row(v.issue.id, f"P{v.issue.priority if v.issue.priority is not None else 0}",
                     v.issue.issue_type, v.issue.assignee or "", v.agent or "",
                     tokens(v.reward))
    stdout.print(grid)
    sums = table("Totals per assignee", "Assignee", "Agent", "Issues", "Reward",
                 right=("Issues", "Reward"))
    for t in totals:
        sums.add_row(t.assignee, t.agent or "", str(t.issues), tokens(t.reward))
    sums.add_row("all", "", str(len(views)), tokens(total))
    stdout.print(sums)


@bd_app.command("close")
@exchange_options
def close(
    issue_id: IssueId,
    reason: Annotated[str | None, typer.Option("--reason", metavar="TEXT",
                                               help="Why it is closed (passed to bd).")] = None,
    agent: Agent = None,
    beads_path: Beads = None,
    *, opts: ExchangeOptions,
) -> None:
    """Close an issue with bd (when bd is on PATH), then pay for it.

    Without bd, only an issue already closed in the data is paid, and the output says so.

    Example: token-exchange bd close bd-09kt --reason "Implemented" --agent builder
    """
    tracker = beads.Tracker(beads_path)
    note = ""
    with open_from(opts) as ex:
        if tracker.bd:
            before = tracker.issue(issue_id)
            beads.choose_agent_or_fail(ex, before, _payees(agent))
            tracker.close_with_bd(issue_id, reason)
            issue = tracker.issue(issue_id)
            if reason and not issue.close_reason:
                issue = beads.with_close_reason(issue, reason)
        else:
            issue = tracker.issue(issue_id)
            if not issue.closed:
                raise InvalidInput(f"{issue_id} is {issue.status} in {tracker.source} and bd "
                                   "is not on PATH to close it; nothing paid")
            note = f"bd is not on PATH: paid for {issue_id}, already closed in the data"
        paid = beads.pay(ex, issue, _payees(agent))
    if opts.json:
        emit_json({**to_json(paid), "issue": to_json(issue), "closed_by_bd": bool(tracker.bd),
                   "message": note})
        return
    if note:
        stdout.print(note, markup=False)
    replies.payment(paid, f"closing {issue_id}")


@bd_app.command("sync")
@exchange_options
def sync(agent: Agent = None, beads_path: Beads = None, *, opts: ExchangeOptions) -> None:
    """Pay every closed issue not yet paid (safe to run again).

    Example: token-exchange bd sync --agent builder
    """
    tracker = beads.Tracker(beads_path)
    with open_from(opts) as ex:
        report = beads.sync(ex, tracker, _payees(agent))
    if opts.json:
        emit_json(to_json(report))
        return
    stdout.print(f"{count(report.closed, 'closed issue')} in {report.source}: paid "
                 f"{report.paid:,} ({tokens(report.total)} tokens), {report.zero:,} earn nothing, "
                 f"{report.already_settled:,} already settled, {report.no_agent:,} with nobody to "
                 "pay" + (" (pass --agent or set TOKEN_EXCHANGE_AGENT)" if report.no_agent
                          else ""), markup=False)


@bd_app.command("install-hook")
@exchange_options
def install_hook(repo: Annotated[Path | None, typer.Option(
        "--repo", metavar="PATH", help="The project folder holding .beads (default: here).")
        ] = None, *, opts: ExchangeOptions) -> None:
    """Write .beads/hooks/on_close, which pays for each issue bd closes.

    bd runs it with the issue's JSON on stdin. An existing on_close hook keeps its
    commands; ours is one marked block.

    Example: token-exchange bd install-hook --repo ~/src/app
    """
    paths = find_home(opts.home)
    if not paths.exists():
        raise InvalidInput(f"no exchange at {paths.state}; run `token-exchange init` first")
    try:
        root = repo_root(repo)
    except InvalidInput:
        root = Path(repo or Path.cwd()).resolve()
    path, outcome = beads.install_on_close(root, paths.home)
    if opts.json:
        emit_json({"hook": str(path), "outcome": outcome, "home": str(paths.home)})
        return
    stdout.print(f"✅ {outcome.capitalize()} {path}: bd close pays into {paths.home}",
                 markup=False)


@bd_app.command("on-close")
@exchange_options
def on_close(issue_id: Annotated[str | None, typer.Argument(help="The issue bd closed.")]
             = None,
             event: Annotated[str | None, typer.Argument(help="bd's event name.")] = None,
             agent: Agent = None, beads_path: Beads = None, *, opts: ExchangeOptions) -> None:
    """Pay for the issue whose JSON bd passes on stdin (what the on_close hook runs).

    Never fails bd's close: a problem is one line on stderr and exit 0.

    Example: token-exchange bd on-close bd-09kt --agent builder < issue.json
    """
    try:
        text = "" if sys.stdin is None or sys.stdin.isatty() else sys.stdin.read()
        data = jsonlib.loads(text) if text.strip() else None
        if isinstance(data, list):
            data = data[0] if data else None
        issue = beads.issue_from_json(data, "stdin") if data is not None else None
        if issue is None:
            if not issue_id:
                raise InvalidInput("no issue JSON on stdin and no issue id")
            issue = beads.Tracker(beads_path).issue(issue_id)
        if not issue.closed and not issue.tombstoned:
            issue = beads.with_status(issue, beads.CLOSED)  # bd runs on_close as it closes
        with open_from(opts) as ex:
            paid = beads.pay(ex, issue, _payees(agent))
    except Exception as exc:  # noqa: BLE001 - a hook must never fail bd's close
        line, error = hook_problem(exc, "issue")
        print(line, file=sys.stderr)
        if opts.json:
            emit_json({"error": error}, ok=False)
        return
    if opts.json:
        emit_json(to_json(paid))
        return
    if paid.replayed:
        line = (f"token-exchange: {issue.id} was already paid ({paid.agent} earned "
                f"{tokens(paid.amount)} tokens then); nothing paid again")
    else:
        line = (f"token-exchange: {paid.agent} earned {tokens(paid.amount)} tokens for "
                f"{issue.id}" + (f" ({paid.note})" if paid.amount == 0 else ""))
    stdout.print(line, markup=False)


def _payees(agent: str | None) -> beads.Payees:
    """Who to pay when an issue's assignee is no agent: --agent, then the environment."""
    return beads.payees_named(agent, os.environ.get(beads.ENV_AGENT))
