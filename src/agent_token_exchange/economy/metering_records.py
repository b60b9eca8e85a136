"""The gateway's metered requests: a reservation, how it settled, a quote. Part of
``records.py``'s catalogue (see its docstring)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .records import Moment


@dataclass(frozen=True)
class Reservation:
    """A gateway request's worst case, held before the provider is called."""

    id: int
    agent: str
    model: str
    pool_id: str | None
    amount: Decimal
    input_estimate: int
    max_output_tokens: int
    estimator: str
    reserved_at: Moment


@dataclass(frozen=True)
class MeteredRequest:
    """How a gateway request settled: ``captured`` at the provider's reported usage,
    ``released`` (the provider failed: nothing charged) or ``expired`` (left open past
    the timeout: charged the reserved amount). ``overrun`` is what the charge exceeded
    the reservation by; ``seq`` the charge's transfer (None when nothing was charged)."""

    reservation_id: int
    agent: str
    model: str
    pool_id: str | None
    outcome: str
    reserved: Decimal
    charged: Decimal
    overrun: Decimal
    input_tokens: int | None
    output_tokens: int | None
    provider_request_id: str | None
    latency_ms: int | None
    seq: int | None


@dataclass(frozen=True)
class Quote:
    """What a request to a model would reserve now, and whether it would pass."""

    agent: str
    model: str
    input_tokens: int
    max_output_tokens: int
    cost: Decimal  # the worst case the gateway would reserve
    allowed: bool
    code: str | None
    message: str
    largest_max_tokens: int | None  # the most output that fits now (None: output is free)
    headroom: Decimal


__all__ = ["Reservation", "MeteredRequest", "Quote"]
