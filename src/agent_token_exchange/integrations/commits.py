"""Paying git commits: the one a post-commit hook just made, and a repository's history.

Both go through ``Exchange.commit`` with the SHA, the patch id and (for an amend) the
commit it replaces, so the same work is paid once whichever way it arrives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from ..economy import rules
from ..errors import BudgetExhausted, Busy, Conflict, IntegrityError, InvalidInput
from ..money import display_amount, micro, tokens
from .git import CommitInfo, HeadReading, has_commits, project_name, repo_root, walk_history

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..economy.records import Payment
    from ..service.exchange import Exchange
    from ..service.home import ExchangePaths

# How long the post-commit hook waits for the ledger (a busy SQLite writer, a PostgreSQL
# server that does not answer) before it gives up: a commit must not hang on payment.
HOOK_WAIT_SECONDS = 2
UNPAID_LATER = ("the next commit's hook or `token-exchange git backfill` pays it")


def commit_agent(ex: Exchange, commit: CommitInfo) -> str | None:
    return (rules.agent_for_email(ex.config, commit.author_email)
            if commit.author_email else None)


def skip_reason(ex: Exchange, commit: CommitInfo) -> str | None:
    """Why this commit earns nothing by rule (a merge, an empty commit, an unknown
    author), or None when it goes to the exchange to be paid."""
    return rules.unpaid_commit_reason(
        ex.config, is_merge=commit.is_merge, empty=commit.empty,
        agent=commit_agent(ex, commit), author_email=commit.author_email)


def pay_head(ex: Exchange,
             head: HeadReading) -> tuple[CommitInfo, Payment | None, str | None]:
    """What the post-commit hook does: pay HEAD as git read it. Returns the commit, the
    payment, and, when it earns nothing by rule, why (the payment is then None)."""
    _, commit, project = head.result()
    reason = skip_reason(ex, commit)
    if reason is not None:
        return commit, None, reason
    paid = ex.commit(commit.author_email, project, commit.message, commit.sha,
                     patch_id=commit.patch_id, replaces=commit.replaces)
    return commit, paid, None


@dataclass
class AgentTotal:
    agent: str
    commits: int = 0
    amount: Decimal = tokens(0)


@dataclass
class BackfillReport:
    """What a backfill paid (or, dry, would pay), per agent, and what it passed over."""

    repo: str
    project: str
    dry_run: bool
    commits: int = 0
    paid: int = 0
    already_paid: int = 0
    merges: int = 0
    empty: int = 0
    unknown_authors: int = 0
    refused: int = 0
    total: Decimal = tokens(0)
    agents: list[AgentTotal] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def add(self, agent: str, amount: Decimal) -> None:
        for row in self.agents:
            if row.agent == agent:
                row.commits += 1
                row.amount += amount
                break
        else:
            self.agents.append(AgentTotal(agent, 1, amount))
        self.paid += 1
        self.total += amount


def backfill(
    ex: Exchange, repo: Path | None, *, since: str | None = None, dry_run: bool = False,
    project: str | None = None, progress: Callable[[int, int], None] | None = None,
) -> BackfillReport:
    """Pay every past commit of a known agent, oldest first, once.

    A dry run computes the same figures from the rules (budgets capped as they would be)
    and writes nothing."""
    root = repo_root(repo)
    name = project_name(root, project)
    commits = list(walk_history(root, since)) if has_commits(root) else []
    report = BackfillReport(str(root), name, dry_run, commits=len(commits))
    budgets: dict[str, int] = {}  # dry run: what each contract would have left
    seen: set[tuple[str, str]] = set()  # dry run: (patch id, agent) counted already
    for done, commit in enumerate(commits, 1):
        if progress is not None:
            progress(done, len(commits))
        agent = commit_agent(ex, commit)
        if agent is None or skip_reason(ex, commit) is not None:
            if commit.is_merge and not ex.config.git.pay_merge_commits:
                report.merges += 1
            elif commit.empty:
                report.empty += 1
            else:
                report.unknown_authors += 1
            continue
        if ex.commit_paid(commit.sha, patch_id=commit.patch_id,
                          author_email=commit.author_email) or (
                dry_run and commit.patch_id and (commit.patch_id, agent) in seen):
            report.already_paid += 1
            continue
        if dry_run:
            _dry_pay(ex, commit, agent, name, budgets, report)
            if commit.patch_id:
                seen.add((commit.patch_id, agent))
            continue
        try:
            paid = ex.commit(commit.author_email, name, commit.message, commit.sha,
                             patch_id=commit.patch_id)
        except BudgetExhausted:
            report.refused += 1
            continue
        except (Conflict, InvalidInput) as exc:
            report.refused += 1
            report.problems.append(f"{commit.sha[:12]}: {exc.message}")
            continue
        if paid.amount == 0 or paid.replayed:
            report.already_paid += 1
        else:
            report.add(agent, paid.amount)
    report.agents.sort(key=lambda row: row.agent)
    return report


def _dry_pay(ex: Exchange, commit: CommitInfo, agent: str, project: str,
             budgets: dict[str, int], report: BackfillReport) -> None:
    reward = rules.commit_reward(ex.config, agent, project, commit.message)
    left = budgets.setdefault(reward.contract, micro(ex.budget_left(reward.contract)))
    payable = rules.capped_commit_reward(reward, left)
    if not payable.allowed:
        report.refused += 1
        return
    amount = payable.amount
    budgets[reward.contract] = left - amount
    report.add(agent, tokens(amount))


def post_commit_hook(home: Path | str | None, repo: Path | str | None,
                     project: str | None) -> tuple[bool, str, dict[str, object]]:
    """The post-commit hook's whole job. Never raises: a commit must not break because
    paying for it did. Returns (paid-or-settled, one line to print, JSON payload). Waits
    at most ``HOOK_WAIT_SECONDS`` for the ledger; an unpaid commit is paid later."""
    try:
        # git reads HEAD while the exchange is loaded and opened.
        head = HeadReading(Path(repo or Path.cwd()), project)
        from ..formats.json_codec import to_json
        from ..service.home import find_home

        paths = find_home(home)
        if not paths.exists():
            raise InvalidInput(f"no exchange at {paths.state}")
        with _open_for_hook(paths) as ex:
            ex.open_accounts()  # an agent added to the config since: its start balance
            commit, paid, reason = pay_head(ex, head)
            if paid is None:
                line = f"token-exchange: {commit.sha[:12]} not paid: {reason}"
                return False, line, {"sha": commit.sha, "paid": None, "reason": reason}
        if paid.replayed:
            line = (f"token-exchange: {commit.sha[:12]} was already paid ({paid.agent} earned "
                    f"{display_amount(micro(paid.amount))} tokens then); nothing paid again")
        elif paid.amount == 0:
            line = f"token-exchange: {commit.sha[:12]} earns nothing more: {paid.note}"
        else:
            earned = display_amount(micro(paid.amount))
            line = (f"token-exchange: {paid.agent} earned {earned} tokens "
                    f"for {commit.sha[:12]} ({paid.project})")
        return True, line, {"sha": commit.sha, "paid": to_json(paid)}
    except Busy:
        return _not_paid_now(Busy(f"the ledger stayed busy with another writer for "
                                  f"{HOOK_WAIT_SECONDS} s; {UNPAID_LATER}"))
    except Exception as exc:  # noqa: BLE001 - the hook must never break a commit
        return _not_paid_now(exc)


def _not_paid_now(exc: BaseException) -> tuple[bool, str, dict[str, object]]:
    from .githooks import hook_problem

    line, error = hook_problem(exc, "commit")
    return False, line, {"error": error}


def _open_for_hook(paths: ExchangePaths) -> Exchange:
    """The home's exchange, opened to wait at most ``HOOK_WAIT_SECONDS`` for the ledger:
    PostgreSQL's connect timeout, SQLite's busy timeout (the CLI and the server keep their
    longer waits). The config comes from its validated cache, so the hook starts without
    pydantic."""
    from ..service.hook_open import open_for_hook

    try:
        return open_for_hook(paths, HOOK_WAIT_SECONDS)
    except IntegrityError as exc:
        raise IntegrityError(f"{exc.message}; {UNPAID_LATER}") from None
