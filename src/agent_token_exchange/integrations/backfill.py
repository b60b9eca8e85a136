"""Paying a repository's history: every past commit of a known agent, oldest first, once
(``token-exchange git backfill``). Through ``Exchange.commit`` as the hook pays
(``commits.py``), so a commit the hook paid, or the same change replayed, is not paid
again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from ..economy import rules
from ..errors import BudgetExhausted, Conflict, InvalidInput
from ..money import micro, tokens
from .commits import commit_agent, skip_reason
from .git import CommitInfo, has_commits, project_name, repo_root, walk_history

if TYPE_CHECKING:
    from ..service.exchange import Exchange


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


__all__ = ["AgentTotal", "BackfillReport", "backfill"]
