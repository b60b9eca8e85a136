"""Every rule of the seed's economy, as pure functions over config and numbers.

No I/O, no clock, no database: ``exchange.py`` reads state, asks these functions, and
writes what they decide. Amounts are integer micro-tokens throughout.

The commit rules live here; what spending costs and may spend (``spend_rules.py``) and
what a closed issue pays (``issue_rules.py``) live beside them and are reached through
this module too (``rules.check_consumption``), each loaded when first used (PEP 562), so
the post-commit hook loads only the commit rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from ..lazy import lazy_names
from ..money import round_half_up, to_micro
from .patterns import linear_pattern

if TYPE_CHECKING:
    from .config import Config, Contract
    from .issue_rules import (
        IssueReward,
        RewardTableRow,
        agent_for_assignee,
        issue_payee,
        issue_reward,
        issue_reward_table,
    )
    from .spend_rules import (
        ALLOWED,
        SpendDecision,
        check_consumption,
        check_outflow,
        consumption_headroom,
        llm_cost,
        model_note,
        preferred_llm,
    )

# -- Commit rewards ---------------------------------------------------------------------


@dataclass(frozen=True)
class CommitReward:
    """What a commit earns before the contract's budget is applied."""

    contract: str
    base_rate: int
    project_multiplier: Decimal
    bonus_multiplier: Decimal
    bonus_class: str | None
    amount: int


def match_contract(config: Config, project: str) -> Contract:
    """The first contract whose pattern matches the whole project name; else ``default``."""
    for contract in config.contracts:
        if contract.name != "default" and linear_pattern(contract.pattern).fullmatch(project):
            return contract
    return next(c for c in config.contracts if c.name == "default")


def commit_bonus(config: Config, message: str) -> tuple[Decimal, str | None]:
    """The largest bonus multiplier among keyword classes found as whole words."""
    words = set(re.findall(r"[a-z0-9]+", message.lower()))
    best, best_class = Decimal(1), None
    for bonus in config.commit_bonuses:
        found = any(_keyword_in(keyword.lower(), words, message) for keyword in bonus.keywords)
        if found and bonus.multiplier > best:
            best, best_class = bonus.multiplier, bonus.name
    return best, best_class


def _keyword_in(keyword: str, words: set[str], message: str) -> bool:
    if re.fullmatch(r"[a-z0-9]+", keyword):
        return keyword in words
    # A keyword with punctuation or spaces: match it as a whole phrase.
    return re.search(rf"(?<![a-z0-9]){re.escape(keyword)}(?![a-z0-9])", message.lower()) is not None


def commit_reward(config: Config, agent: str, project: str, message: str) -> CommitReward:
    """base_rate × project multiplier × commit bonus, in micro-tokens (half-up once)."""
    contract = match_contract(config, project)
    bonus, bonus_class = commit_bonus(config, message)
    base_rate = to_micro(config.agents[agent].base_rate)
    amount = round_half_up(Decimal(base_rate) * contract.multiplier * bonus)
    return CommitReward(
        contract=contract.name,
        base_rate=base_rate,
        project_multiplier=contract.multiplier,
        bonus_multiplier=bonus,
        bonus_class=bonus_class,
        amount=amount,
    )


@dataclass(frozen=True)
class BudgetedReward:
    """A commit reward after its contract's budget: ``amount`` paid, a ``note`` when it
    was capped, or ``code`` budget_exhausted (and the seed-style message) when nothing
    is left."""

    amount: int
    note: str = ""
    code: str | None = None

    @property
    def allowed(self) -> bool:
        return self.code is None


def capped_commit_reward(reward: CommitReward, budget_left: int) -> BudgetedReward:
    """What a commit is paid from what is left of its contract's budget: the reward,
    capped at that; nothing left refuses the commit."""
    if budget_left <= 0:
        return BudgetedReward(
            0, f"Contract '{reward.contract}' budget exhausted: the commit earns nothing",
            "budget_exhausted",
        )
    amount = min(reward.amount, budget_left)
    note = "" if amount == reward.amount else (
        f"capped at what is left of contract '{reward.contract}'s budget"
    )
    return BudgetedReward(amount, note)


def unpaid_commit_reason(config: Config, *, is_merge: bool, empty: bool,
                         agent: str | None, author_email: str) -> str | None:
    """Why a commit earns nothing before any ledger is read, or None when it may earn:
    a merge (unless configured), a commit that changes nothing, an unknown author."""
    if is_merge and not config.git.pay_merge_commits:
        return "merge commits earn nothing (set git.pay_merge_commits to pay them)"
    if empty:
        return "the commit changes nothing (an empty commit earns nothing)"
    if agent is None:
        return (f"{author_email or 'no author email'} is not a known agent "
                "(add it to an agent's emails in config.toml)")
    return None


def agent_for_email(config: Config, email: str) -> str | None:
    """The agent behind a commit author: configured emails, else the local part as a name."""
    email = email.strip().lower()
    for name, agent in config.agents.items():
        if email in agent.emails:
            return name
    local = email.split("@", 1)[0]
    return local if local in config.agents else None


# Where the rules kept beside this module live.
_HOMES = {
    "preferred_llm": ".spend_rules",
    "model_note": ".spend_rules",
    "llm_cost": ".spend_rules",
    "SpendDecision": ".spend_rules",
    "ALLOWED": ".spend_rules",
    "check_outflow": ".spend_rules",
    "check_consumption": ".spend_rules",
    "consumption_headroom": ".spend_rules",
    "issue_payee": ".issue_rules",
    "RewardTableRow": ".issue_rules",
    "issue_reward_table": ".issue_rules",
    "agent_for_assignee": ".issue_rules",
    "IssueReward": ".issue_rules",
    "issue_reward": ".issue_rules",
}


__getattr__, __dir__ = lazy_names(__package__, _HOMES, globals())


__all__ = [
    "ALLOWED", "BudgetedReward", "CommitReward", "IssueReward", "RewardTableRow",
    "SpendDecision", "agent_for_assignee", "agent_for_email", "capped_commit_reward",
    "check_consumption", "check_outflow", "commit_bonus", "commit_reward",
    "consumption_headroom", "issue_payee", "issue_reward", "issue_reward_table", "llm_cost",
    "match_contract", "model_note", "preferred_llm", "unpaid_commit_reason",
]
