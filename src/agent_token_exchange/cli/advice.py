"""What to do after a refusal: the largest request that would pass now, and which limit
decides it, from the agent's ``limits`` (the same figures `token-exchange limits` shows)."""

from __future__ import annotations

from decimal import Decimal

from ..api import ExchangeAPI
from ..economy import rules
from ..economy.records import Limits
from ..errors import ExchangeError
from ..money import micro, to_micro
from .output import tokens


def binding_limit(view: Limits) -> str:
    """Which limit the headroom comes from: 'the burst limit', 'the hourly limit', …"""
    left = {
        "the burst limit": view.burst_limit,
        "the hourly limit": view.hourly_limit - view.hourly_used,
        "the daily limit": view.daily_limit - view.daily_used,
        "the reserve": view.tokens - view.reserve,
    }
    return min(left, key=lambda name: left[name])


def largest_count(headroom: Decimal, price_per_1k: Decimal) -> int | None:
    """The most inference tokens whose cost (half-up to the micro-token, as charged)
    fits ``headroom``; None when the model is free."""
    price = to_micro(price_per_1k)
    if price <= 0:
        return None
    room = micro(headroom)
    # cost(n) = (2·n·price + 1000) // 2000 ≤ room  ⇔  2·n·price < 2000·room + 1000
    return max(0, (2000 * room + 1000 - 1) // (2 * price))


def llm_hint(ex: ExchangeAPI, agent: str, task_type: str, model: str | None) -> str:
    """One line after an llm refusal: the largest request that would pass now, in exchange
    tokens and (when the model's price can be read) in inference tokens."""
    try:
        view = ex.limits(agent)
    except ExchangeError:
        return ""
    where = f"see `token-exchange limits {agent}`"
    if view.headroom <= 0:
        return f"No request would pass now ({binding_limit(view)} is used up); {where}."
    line = (f"The largest request that would pass now costs {tokens(view.headroom)} tokens "
            f"({binding_limit(view)})")
    try:
        config = ex.config  # a remote exchange shows its rules to admin keys only
        chosen = model or rules.preferred_llm(config, agent, task_type)
        count = largest_count(view.headroom, config.models[chosen].cost_per_1k)
    except (ExchangeError, KeyError):
        count = None
    if count == 0:
        return (f"No request on {chosen} would pass now: {tokens(view.headroom)} tokens left "
                f"({binding_limit(view)}); {where}.")
    if count is not None:
        line += f": {count:,} inference tokens on {chosen}"
    return f"{line}; {where}."
