"""Pools: a pool and its members, and what each pool operation returns. Part of
``records.py``'s catalogue (see its docstring)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .records import Moment


@dataclass(frozen=True)
class PoolMember:
    """A member: ``contributed`` is all it ever put in, ``stake`` what of the pool's
    balance is its own (what leaving returns), ``share_percent`` its stake's share, which
    is its share of the next spend."""

    agent: str
    contributed: Decimal
    stake: Decimal
    share_percent: str


@dataclass(frozen=True)
class PoolView:
    """A pool: ``open`` when anyone may join (else its creator invites, and ``invited``
    names who may join); ``balance`` is the sum of the members' stakes."""

    id: str
    name: str
    creator: str
    min_contribution: Decimal
    balance: Decimal
    total_contributed: Decimal
    total_spent: Decimal
    created_at: Moment
    dissolved_at: Moment | None
    members: tuple[PoolMember, ...]
    open: bool = False
    invited: tuple[str, ...] = ()
    replayed: bool = False  # from pool create/invite/join; reads are never replays


@dataclass(frozen=True)
class PoolContribution:
    pool_id: str
    agent: str
    amount: Decimal
    tokens: Decimal
    pool_balance: Decimal
    seq: int
    replayed: bool = False  # see the module docstring


@dataclass(frozen=True)
class Credit:
    """One member's draw on a pool spend: ``stake`` before the spend, ``credited`` what
    the spend drew from it (its own consumption), ``share_percent`` its share of it."""

    agent: str
    stake: Decimal
    credited: Decimal
    share_percent: str


@dataclass(frozen=True)
class PoolSpend:
    pool_id: str
    model: str
    inference_tokens: int
    amount: Decimal
    pool_balance: Decimal
    description: str
    seq: int
    credits: tuple[Credit, ...]
    replayed: bool = False  # see the module docstring


@dataclass(frozen=True)
class Refund:
    agent: str
    amount: Decimal
    tokens: Decimal


@dataclass(frozen=True)
class PoolLeave:
    """A member left a pool and took its stake back (``seq`` None when it held none)."""

    pool_id: str
    agent: str
    amount: Decimal
    tokens: Decimal
    pool_balance: Decimal
    seq: int | None
    replayed: bool = False  # see the module docstring


@dataclass(frozen=True)
class PoolDissolution:
    pool_id: str
    amount: Decimal
    refunds: tuple[Refund, ...]
    replayed: bool = False  # see the module docstring


__all__ = [
    "PoolMember", "PoolView", "PoolContribution", "Credit", "PoolSpend", "Refund", "PoolLeave",
    "PoolDissolution",
]
