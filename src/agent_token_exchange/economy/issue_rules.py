"""What a closed issue pays and to whom: the payee (assignee, alias or email, else the
agent named), the priority base times the type multiplier, and what earns nothing. Pure
functions over config and numbers, as ``rules.py`` (which reaches them too)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from ..errors import InvalidInput
from ..money import display_limit, round_half_up, to_micro
from .rules import agent_for_email

if TYPE_CHECKING:
    from .config import Config


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
