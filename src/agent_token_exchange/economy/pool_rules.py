"""The rules of pools, as pure functions over numbers (DESIGN.md, "Pools").

A pool is invite-only unless created open: its creator invites, an invited agent joins.
Each member holds a stake: what it put in, less its share of what the pool spent; the
pool's balance is the sum of the stakes. Only a member with a stake may spend; a spend
needs ``min_members`` members whose stake is at least the pool's minimum contribution,
and draws from every member with a stake in proportion to it (largest remainder, to the
micro-token). Each draw is that member's own consumption and must fit its burst, hourly
and daily limits. A member leaves with its stake; dissolving (the creator's) returns
every stake.

Amounts are integer micro-tokens; verdicts are ``rules.SpendDecision``.
"""

from __future__ import annotations

from decimal import Decimal

from ..money import display_amount, display_limit
from .limits import ResolvedLimits
from .rules import ALLOWED, SpendDecision


def _not_allowed(message: str, needed: int = 0) -> SpendDecision:
    return SpendDecision("not_allowed", message, needed=needed)


# -- splitting amounts ----------------------------------------------------------------------


def largest_remainder_split(total: int, weights: dict[str, int]) -> dict[str, int]:
    """Split ``total`` micro-tokens in proportion to ``weights`` (Hamilton's method): each
    share rounded down, then one more micro-token to each of the largest remainders
    (ties: the larger weight, then the name), so the shares sum to ``total`` exactly.

    A share never exceeds its weight when ``total`` does not exceed the weights' sum, so
    a spend never draws more than a stake holds."""
    weight_sum = sum(weights.values())
    if weight_sum <= 0 or any(w < 0 for w in weights.values()):
        raise ValueError("weights must be non-negative and sum to more than zero")
    shares = {name: total * weight // weight_sum for name, weight in weights.items()}
    left = total - sum(shares.values())
    by_remainder = sorted(weights, key=lambda n: (-(total * weights[n] % weight_sum),
                                                  -weights[n], n))
    for name in by_remainder[:left]:
        shares[name] += 1
    return shares


def hold_charge_shares(charge: int, draws: dict[str, int],
                       available: dict[str, int]) -> dict[str, int]:
    """Each member's share of a pool-paid gateway charge, summing to ``charge`` exactly:
    in proportion to what the request's hold drew from each (so a charge within the hold
    never takes more from a member than its draw). An overrun that some member's share
    would not fit is split instead in proportion to what each has (``available``: its
    stake with its draw given back), never more than that. ``charge`` never exceeds the
    sum of ``available``."""
    shares = dict.fromkeys(draws, 0)
    if charge == 0:
        return shares
    if sum(draws.values()) > 0:
        by_draw = largest_remainder_split(charge, draws)
        if all(share <= available.get(name, 0) for name, share in by_draw.items()):
            return by_draw
    holders = {name: amount for name, amount in available.items() if amount > 0}
    return shares | largest_remainder_split(charge, holders)


def stakes_from_contributions(balance: int, contributions: dict[str, int]) -> dict[str, int]:
    """Stakes for a pool that kept only lifetime contributions (a pool from before the
    stake rules, or the Scheme prototype's): the balance in proportion to what each put
    in, summing to the balance exactly."""
    weights = {name: amount for name, amount in contributions.items() if amount > 0}
    if balance <= 0 or not weights:
        return {name: 0 for name in contributions}
    return {name: 0 for name in contributions} | largest_remainder_split(balance, weights)


def share_percent(weight: int, weight_sum: int) -> Decimal:
    """A member's share as a percentage with two decimals (60.00)."""
    return (Decimal(weight) * 100 / Decimal(weight_sum)).quantize(Decimal("0.01"))


# -- who may do what ------------------------------------------------------------------------


def check_invite(pool_id: str, inviter: str, *, creator: str) -> SpendDecision:
    """Only a pool's creator invites."""
    if inviter != creator:
        return _not_allowed(f"only {pool_id}'s creator ({creator}) may invite to it")
    return ALLOWED


def check_join(pool_id: str, agent: str, *, is_open: bool, invited: bool,
               creator: str) -> SpendDecision:
    """An agent joins an open pool, or one whose creator invited it."""
    if not is_open and not invited:
        return _not_allowed(f"{pool_id} is invite-only: its creator ({creator}) must invite "
                            f"{agent} first (`token-exchange pool invite {pool_id} {agent}`)")
    return ALLOWED


def check_contribution(
    pool_id: str, agent: str, *, is_member: bool, amount: int, minimum: int
) -> SpendDecision:
    """Only members contribute, and at least the pool's minimum. (The reserve applies too:
    ``rules.check_outflow``.)"""
    if not is_member:
        return _not_allowed(f"{agent} is not a member of {pool_id}; join it first")
    if amount < minimum:
        return _not_allowed(f"Contribution {display_amount(amount)} is below {pool_id}'s "
                            f"minimum {display_amount(minimum)}", needed=minimum)
    return ALLOWED


def check_pool_spend(
    pool_id: str, actor: str, *, stakes: dict[str, int], minimum: int, min_members: int,
    cost: int, balance: int,
) -> SpendDecision:
    """A member with a stake spends; the pool needs ``min_members`` members staking at
    least its minimum (so a lone agent cannot use a pool to dodge its own limits), and
    spends only what it holds. ``stakes`` are the current members'."""
    if stakes.get(actor, 0) <= 0:
        what = "has no stake in" if actor in stakes else "is not a member of"
        return _not_allowed(f"{actor} {what} {pool_id}: only a member with a stake may "
                            "spend from it")
    qualifying = sum(1 for stake in stakes.values() if stake >= minimum)
    if qualifying < min_members:
        return _not_allowed(
            f"{pool_id} needs {min_members} members with a stake of at least "
            f"{display_amount(minimum)} to spend, has {qualifying}")
    if cost > balance:
        return SpendDecision(
            "insufficient_funds",
            f"Insufficient funds in {pool_id} ({display_amount(balance)} available, "
            f"need {display_amount(cost)})",
            used=balance, limit=balance, needed=cost,
        )
    return ALLOWED


def check_draw(
    pool_id: str, member: str, limits: ResolvedLimits, *, draw: int, hourly_used: int,
    daily_used: int,
) -> SpendDecision:
    """A member's draw on a pool spend is its own consumption: it must fit the member's
    burst, hourly and daily limits (the pool pays, so funds and reserve do not apply)."""
    whose = f"{member}'s share of the {pool_id} spend"
    if draw > limits.burst:
        return SpendDecision(
            "burst_limit",
            f"Exceeds burst limit: {whose} is {display_amount(draw)} > "
            f"{display_limit(limits.burst)}",
            used=draw, limit=limits.burst, needed=draw)
    if hourly_used + draw > limits.hourly:
        return SpendDecision(
            "hourly_limit",
            f"Hourly limit reached for {member} ({display_amount(hourly_used)}/"
            f"{display_limit(limits.hourly)} used, {whose} needs {display_amount(draw)})",
            used=hourly_used, limit=limits.hourly, needed=draw)
    if daily_used + draw > limits.daily:
        return SpendDecision(
            "daily_limit",
            f"Daily limit reached for {member} ({display_amount(daily_used)}/"
            f"{display_limit(limits.daily)} used, {whose} needs {display_amount(draw)})",
            used=daily_used, limit=limits.daily, needed=draw)
    return ALLOWED


def check_leave(pool_id: str, agent: str, *, is_member: bool, creator: str) -> SpendDecision:
    """A member leaves with its stake; the creator dissolves instead."""
    if not is_member:
        return _not_allowed(f"{agent} is not a member of {pool_id}")
    if agent == creator:
        return _not_allowed(f"{agent} created {pool_id}: a creator does not leave, it "
                            f"dissolves the pool (`token-exchange pool dissolve {pool_id}`)")
    return ALLOWED


def check_dissolve(pool_id: str, actor: str, *, creator: str) -> SpendDecision:
    """Only the creator dissolves a pool."""
    if actor != creator:
        return _not_allowed(f"only {pool_id}'s creator ({creator}) may dissolve it")
    return ALLOWED
