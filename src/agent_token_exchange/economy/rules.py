"""Every rule of the seed's economy, as pure functions over config and numbers.

No I/O, no clock, no database: ``exchange.py`` reads state, asks these functions, and
writes what they decide. Amounts are integer micro-tokens throughout.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from ..errors import InvalidInput
from ..money import display_amount, display_limit, round_half_up, to_micro
from .limits import ResolvedLimits
from .patterns import linear_pattern

if TYPE_CHECKING:
    from .config import Config, Contract

# -- LLM costs --------------------------------------------------------------------------


def preferred_llm(config: Config, agent: str, task_type: str) -> str:
    """The model an agent uses for a task type: its preference, else its primary LLM."""
    spec = config.agents[agent]
    return spec.preferred_llms.get(task_type, spec.primary_llm)


def model_note(config: Config, agent: str, task_type: str) -> str:
    """Why a request that named no model got the one it did: nothing to say when the
    agent has a model for the task type; else that its primary LLM stood in (any task
    type is allowed, as in the seed), with the task types it has a model for."""
    spec = config.agents[agent]
    if task_type in spec.preferred_llms:
        return ""
    named = ", ".join(spec.preferred_llms) or "none"
    return (f"{agent} has no model for task type {task_type!r}, so its primary model "
            f"{spec.primary_llm} was used (task types with a model: {named})")


def llm_cost(config: Config, model: str, token_count: int) -> int:
    """Cost in micro-tokens of ``token_count`` inference tokens, rounded half-up once."""
    if model not in config.models:
        known = ", ".join(sorted(config.models))
        raise InvalidInput(f"unknown model {model!r} (known: {known})")
    price_micro_per_1k = to_micro(config.models[model].cost_per_1k)
    # cost = tokens * price / 1000, half-up, in integers only.
    return (2 * token_count * price_micro_per_1k + 1000) // 2000


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


def issue_payee(config: Config, assignee: str | None,
                named: Sequence[tuple[str, str | None]]) -> tuple[str | None, str]:
    """Who is paid for an issue, and why: the assignee mapped to an agent, else the first
    agent named by the caller (``named`` is ``(where, name)`` pairs in order, e.g.
    ``--agent`` then ``$TOKEN_EXCHANGE_AGENT``; the adapter reads them). A named agent
    the config lacks is bad input."""
    if assignee:
        agent = agent_for_assignee(config, assignee)
        if agent is not None:
            return agent, f"assignee {assignee} is agent {agent}"
    for where, value in named:
        if value:
            name = value.strip().lower()
            if name not in config.agents:
                raise InvalidInput(f"{where} names unknown agent {value!r} "
                                   f"(known: {', '.join(config.agents)})")
            return name, f"{where} is {name}"
    who = f"assignee {assignee!r} is no agent" if assignee else "no assignee"
    ways = "".join(f"pass {where}, " if where.startswith("-") else f"set {where}, "
                   for where, _ in named)
    return None, f"{who}; {ways}or add the assignee to an agent's aliases in config.toml"


@dataclass(frozen=True)
class RewardTableRow:
    """One priority of the issue reward table: its base and what each type pays."""

    priority: str
    base: int
    by_type: dict[str, int]


def issue_reward_table(config: Config) -> list[RewardTableRow]:
    """The reward table, each cell what such a close pays, rounded as the payout is."""
    rules = config.issues
    rows = []
    for label in sorted(rules.priority_rewards):
        rows.append(RewardTableRow(label, to_micro(rules.priority_rewards[label]), {
            kind: issue_reward(config, priority=int(label[1:]), issue_type=kind).amount
            for kind in rules.type_multipliers}))
    return rows


def agent_for_assignee(config: Config, assignee: str) -> str | None:
    """The agent behind an issue assignee: its name, a configured alias, or an email."""
    key = assignee.strip().lower()
    if key in config.agents:
        return key
    for name, agent in config.agents.items():
        if key in (alias.lower() for alias in agent.aliases):
            return name
    if "@" in key:
        return agent_for_email(config, key)
    return None


# -- Issue rewards ----------------------------------------------------------------------


@dataclass(frozen=True)
class IssueReward:
    """What closing an issue pays, and why (``reason`` is one readable sentence)."""

    amount: int
    priority: str
    base: int
    type_multiplier: Decimal
    reason: str


def issue_reward(
    config: Config,
    *,
    priority: int | None,
    issue_type: str | None,
    labels: tuple[str, ...] = (),
    close_reason: str | None = None,
    tombstoned: bool = False,
) -> IssueReward:
    """priority base × type multiplier, with the DESIGN.md rulings for what earns nothing."""
    rules = config.issues
    level = 0 if priority is None else priority
    label = f"P{rules.p0_pays_as}" if level == 0 else f"P{level}"
    if label not in rules.priority_rewards:
        return IssueReward(0, f"P{level}", 0, Decimal(0), f"priority P{level} has no reward")
    base = to_micro(rules.priority_rewards[label])
    kind = (issue_type or "task").lower()
    if tombstoned:
        return IssueReward(0, label, base, Decimal(0), "tombstoned issues earn nothing")
    if kind in {t.lower() for t in rules.no_reward_types}:
        return IssueReward(0, label, base, Decimal(0), f"{kind} issues earn nothing")
    failure = _failure_phrase(config, close_reason)
    if failure is not None:
        return IssueReward(0, label, base, Decimal(0), f"closed as {failure!r}: earns nothing")
    multipliers = {k.lower(): v for k, v in rules.type_multipliers.items()}
    candidates = [kind, *(label_.lower() for label_ in labels)]
    found = [(multipliers[c], c) for c in candidates if c in multipliers]
    multiplier, source = max(found, default=(Decimal(1), None))
    amount = round_half_up(Decimal(base) * multiplier)
    why = f"{label} {display_limit(base)} × {source or kind} {multiplier}"
    return IssueReward(amount, label, base, multiplier, why)


def _failure_phrase(config: Config, close_reason: str | None) -> str | None:
    if not close_reason:
        return None
    text = close_reason.lower().replace("’", "'")
    for phrase in config.issues.failure_reasons:
        if re.search(rf"(?<![a-z]){re.escape(phrase.lower())}(?![a-z])", text):
            return phrase
    return None


# -- Rate limits ------------------------------------------------------------------------


@dataclass(frozen=True)
class SpendDecision:
    """The verdict on one outflow. ``code`` is None when allowed."""

    code: str | None = None
    message: str = ""
    used: int = 0
    limit: int = 0
    needed: int = 0

    @property
    def allowed(self) -> bool:
        return self.code is None


ALLOWED = SpendDecision()


def check_outflow(limits: ResolvedLimits, *, amount: int, balance: int) -> SpendDecision:
    """Funds and emergency reserve: every outflow an agent starts must pass this."""
    if amount > balance:
        return SpendDecision(
            "insufficient_funds",
            f"Insufficient funds ({display_amount(balance)} available, "
            f"need {display_amount(amount)})",
            used=balance,
            limit=balance,
            needed=amount,
        )
    if balance - amount < limits.reserve:
        return SpendDecision(
            "reserve",
            f"Would breach emergency reserve ({display_amount(balance)} - "
            f"{display_amount(amount)} < {display_limit(limits.reserve)})",
            used=balance,
            limit=limits.reserve,
            needed=amount,
        )
    return ALLOWED


def check_consumption(
    limits: ResolvedLimits, *, amount: int, balance: int, hourly_used: int, daily_used: int
) -> SpendDecision:
    """The seed's order: burst, funds, reserve, hourly, daily. Exact, in micro-tokens."""
    if amount > limits.burst:
        return SpendDecision(
            "burst_limit",
            f"Exceeds burst limit ({display_amount(amount)} > {display_limit(limits.burst)})",
            used=amount,
            limit=limits.burst,
            needed=amount,
        )
    outflow = check_outflow(limits, amount=amount, balance=balance)
    if not outflow.allowed:
        return outflow
    if hourly_used + amount > limits.hourly:
        return SpendDecision(
            "hourly_limit",
            f"Hourly limit reached ({display_amount(hourly_used)}/{display_limit(limits.hourly)}"
            f" used, need {display_amount(amount)})",
            used=hourly_used,
            limit=limits.hourly,
            needed=amount,
        )
    if daily_used + amount > limits.daily:
        return SpendDecision(
            "daily_limit",
            f"Daily limit reached ({display_amount(daily_used)}/{display_limit(limits.daily)}"
            f" used, need {display_amount(amount)})",
            used=daily_used,
            limit=limits.daily,
            needed=amount,
        )
    return ALLOWED


def consumption_headroom(
    limits: ResolvedLimits, *, balance: int, hourly_used: int, daily_used: int
) -> int:
    """The largest inference spend ``check_consumption`` would allow right now."""
    return max(0, min(limits.hourly - hourly_used, limits.daily - daily_used, limits.burst,
                      balance - limits.reserve))
