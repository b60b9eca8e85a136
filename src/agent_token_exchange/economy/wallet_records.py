"""An agent's wallet and its position under the limits. Part of ``records.py``'s catalogue (see
its docstring)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .event_records import RefusalEvent
from .records import Moment


@dataclass(frozen=True)
class Wallet:
    agent: str
    tokens: Decimal
    earned: Decimal
    spent: Decimal
    # The credit market's net flows (loans taken less repaid and lent, futures, stakes):
    # neither earned nor spent, so tokens = start grant + earned - spent + market.
    market: Decimal = Decimal(0)


@dataclass(frozen=True)
class HistoryEntry:
    seq: int
    at: Moment
    type: str
    amount: Decimal  # signed from the agent's side: + in, - out
    description: str
    project: str | None
    model: str | None
    counterparty: str
    # A request metered by the gateway: what the provider reported, and how long it took.
    pool_id: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    provider_request_id: str | None = None
    latency_ms: int | None = None


@dataclass(frozen=True)
class Limits:
    """An agent's rate-limit position now."""

    agent: str
    tokens: Decimal
    hourly_used: Decimal
    hourly_limit: Decimal
    daily_used: Decimal
    daily_limit: Decimal
    burst_limit: Decimal
    reserve: Decimal
    headroom: Decimal  # the largest inference spend that would pass right now
    refusals_last_hour: int
    refusals_last_day: int
    recent_refusals: tuple[RefusalEvent, ...]


@dataclass(frozen=True)
class AgentStatus:
    agent: str
    level: int
    tokens: Decimal
    earned: Decimal
    spent: Decimal
    hourly_used: Decimal
    hourly_limit: Decimal
    daily_used: Decimal
    daily_limit: Decimal


__all__ = ["Wallet", "HistoryEntry", "Limits", "AgentStatus"]
