"""What the ledger's event streams carry: a transfer, a refusal. Part of ``records.py``'s
catalogue (see its docstring)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .records import Moment


@dataclass(frozen=True)
class LedgerTransfer:
    """One transfer of the ledger, as the live event stream, the dashboard and the export
    see it: with the idempotency key it was applied under and its audit-chain hash."""

    seq: int
    at: Moment
    kind: str
    source: str
    destination: str
    amount: Decimal
    description: str
    project: str | None
    model: str | None
    inference_tokens: int | None
    pool_id: str | None
    idempotency_key: str | None = None
    hash: str | None = None
    # A request metered by the gateway: what the provider reported, and how long it took.
    input_tokens: int | None = None
    output_tokens: int | None = None
    provider_request_id: str | None = None
    latency_ms: int | None = None


@dataclass(frozen=True)
class RefusalEvent:
    """A refusal, or ``count`` identical ones (same agent, operation, code and pool) from
    ``first_at`` to ``at``: repeats within a minute are one event with a count."""

    seq: int
    at: Moment
    agent: str | None
    pool_id: str | None
    operation: str
    code: str
    message: str
    amount: Decimal | None
    count: int = 1
    first_at: Moment | None = None


__all__ = ["LedgerTransfer", "RefusalEvent"]
