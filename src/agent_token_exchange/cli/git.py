"""`git backfill`: pay the past commits of known agents, once."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..errors import InvalidInput
from ..formats.json_codec import to_json
from ..integrations import githooks
from ..integrations.backfill import backfill as run_backfill
from ..integrations.git import hooks_dir, repo_root
from .hooks import HOOK, Project, Repo
from .options import ExchangeOptions, command_group, exchange_options, open_from
from .output import count, emit_json, stderr, stdout, table, tokens

git_app = command_group("git", "Pay for git history.")


def _since(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"--since must be a date like 2025-01-31, got {value[:40]!r}") from None
    return value


@git_app.command("backfill")
@exchange_options
def backfill(
    repo: Repo = None,
    since: Annotated[str | None, typer.Option("--since", metavar="DATE",
                                              help="Only commits from this date (2025-01-31).")
                     ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be paid per "
                                          "agent; change nothing.")] = False,
    project: Project = None,
    *, opts: ExchangeOptions,
) -> None:
    """Walk the history and pay past commits of known agents, each once.

    Safe to run again: commits already paid (by SHA, or the same change replayed by a
    rebase) are passed over. Merge commits earn nothing unless git.pay_merge_commits is
    set. The project is --project, else the one the installed hook records, else the
    remote's repository name, else the folder name.

    Example: token-exchange git backfill --repo ~/src/app --since 2025-01-01 --dry-run
    """
    after = _since(since)
    root = repo_root(repo)
    if project is None:
        project = githooks.read_status(hooks_dir(root) / HOOK, HOOK, HOOK).project
    with open_from(opts) as ex:
        bar = Progress(TextColumn("backfill"), BarColumn(), MofNCompleteColumn(),
                       TimeElapsedColumn(), console=stderr, transient=True,
                       disable=opts.json or not stderr.is_terminal)
        with bar:
            task = bar.add_task("commits", total=None)

            def advance(done: int, total: int) -> None:
                if done == 1 or done % 50 == 0 or done == total:
                    bar.update(task, completed=done, total=total)

            report = run_backfill(ex, root, since=after, dry_run=dry_run, project=project,
                                  progress=advance)
    if opts.json:
        emit_json(to_json(report))
        return
    title = (f"{'Would pay' if dry_run else 'Paid'} for {report.project} "
             f"({count(report.commits, 'commit')} walked)")
    grid = table(title, "Agent", "Commits", "Tokens", right=("Commits", "Tokens"))
    for row in report.agents:
        grid.add_row(row.agent, f"{row.commits:,}", tokens(row.amount))
    grid.add_row("total", f"{report.paid:,}", tokens(report.total))
    stdout.print(grid)
    stdout.print(f"Already paid {report.already_paid:,}, merges {report.merges:,}, "
                 f"empty {report.empty:,}, unknown authors {report.unknown_authors:,}, "
                 f"refused {report.refused:,}."
                 + (" Nothing was written (dry run)." if dry_run else ""), markup=False)
    for problem in report.problems[:10]:
        stderr.print(f"  {problem}", markup=False)
