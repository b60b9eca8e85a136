"""The credit market's summary records, for a dashboard or a client reading the market as
a whole (the single-concept records are in loan_records.py, future_records.py and
governance_records.py)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .records import Moment


@dataclass(frozen=True)
class Stake:
    """One agent's stake: ``staked`` (its voting power, in ``stake:NAME``), ``unbonding``
    (unstaked, waiting in ``unbonding:NAME``) and when the soonest unbonding returns to the
    wallet (None: nothing unbonding)."""

    agent: str
    staked: Decimal
    unbonding: Decimal
    next_release_at: Moment | None = None


__all__ = ["Stake"]
