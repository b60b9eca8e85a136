"""One frozen record per concept: what the exchange returns, what the JSON codec
(``formats/json_codec.py``) writes and reads, what the HTTP schemas are generated from,
what the client decodes into.

Amounts are ``Decimal`` tokens with six decimal places (``money.tokens``); micro-token
integers stay inside the ledger and the service. Times (``Moment``) are integer
microseconds since the epoch, UTC; JSON shows them as ISO-8601 at second precision.

Every record a write returns has ``replayed``: False when this call did the write, True
when it only returned what an earlier call with the same identity (an idempotency key, a
commit SHA, an issue id) did. A replayed record keeps the first call's amounts and seq,
but its balances (``tokens``, ``pool_balance``, a pool's figures) are read now.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from ..lazy import lazy_names


class _MomentMark:
    """Marks an ``int`` field as a point in time (microseconds since the epoch, UTC)."""

    def __repr__(self) -> str:
        return "MOMENT"


MOMENT = _MomentMark()
Moment = Annotated[int, MOMENT]

if TYPE_CHECKING:
    from .check_records import AuditReport, DoctorReport, Finding, ImportSummary
    from .event_records import LedgerTransfer, RefusalEvent
    from .key_records import ApiKey, IssuedKey
    from .metering_records import MeteredRequest, Quote, Reservation
    from .payment_records import Charge, Payment
    from .pool_records import (
        Credit,
        PoolContribution,
        PoolDissolution,
        PoolLeave,
        PoolMember,
        PoolSpend,
        PoolView,
        Refund,
    )
    from .reward_records import BudgetLeft, RewardPreview
    from .wallet_records import AgentStatus, HistoryEntry, Limits, Wallet

# Where each record lives: one module per concept, each loaded when one of its records is
# first used (PEP 562), so a quick command (the post-commit hook) defines only the records
# it returns.
_HOMES = {
    "LedgerTransfer": ".event_records",
    "RefusalEvent": ".event_records",
    "Wallet": ".wallet_records",
    "HistoryEntry": ".wallet_records",
    "Limits": ".wallet_records",
    "AgentStatus": ".wallet_records",
    "Payment": ".payment_records",
    "Charge": ".payment_records",
    "RewardPreview": ".reward_records",
    "BudgetLeft": ".reward_records",
    "PoolMember": ".pool_records",
    "PoolView": ".pool_records",
    "PoolContribution": ".pool_records",
    "Credit": ".pool_records",
    "PoolSpend": ".pool_records",
    "Refund": ".pool_records",
    "PoolLeave": ".pool_records",
    "PoolDissolution": ".pool_records",
    "Finding": ".check_records",
    "DoctorReport": ".check_records",
    "AuditReport": ".check_records",
    "ImportSummary": ".check_records",
    "Reservation": ".metering_records",
    "MeteredRequest": ".metering_records",
    "Quote": ".metering_records",
    "ApiKey": ".key_records",
    "IssuedKey": ".key_records",
}


__getattr__, __dir__ = lazy_names(__package__, _HOMES, globals())


__all__ = [
    "MOMENT", "Moment", "LedgerTransfer", "RefusalEvent", "Wallet", "HistoryEntry", "Limits",
    "AgentStatus", "Payment", "Charge", "RewardPreview", "BudgetLeft", "PoolMember",
    "PoolView", "PoolContribution", "Credit", "PoolSpend", "Refund", "PoolLeave",
    "PoolDissolution", "Finding", "DoctorReport", "AuditReport", "ImportSummary",
    "Reservation", "MeteredRequest", "Quote", "ApiKey", "IssuedKey",
]
