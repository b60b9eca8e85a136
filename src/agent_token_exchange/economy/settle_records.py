"""What ``settle`` did: one item per thing that fell due (a loan collected or defaulted,
a future delivered, failed or expired, an unbonding released, a proposal closed or taken
effect, a stale gateway reservation closed), and the report that gathers them.

Each part of the economy that has something to settle offers a step that returns its
``SettledItem``s; ``service/settle.py`` runs the steps in order."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .records import Moment


@dataclass(frozen=True)
class SettledItem:
    area: str  # "loan", "future", "unbonding", "proposal", "reservation"
    id: str  # the loan, future, proposal or reservation id; the agent for an unbonding
    outcome: str  # e.g. "repaid", "defaulted", "failed", "expired", "released", "passed"
    amount: Decimal  # tokens moved by this settlement (0 if none)
    detail: str  # one line a person can read


@dataclass(frozen=True)
class SettleReport:
    at: Moment
    items: tuple[SettledItem, ...]
