"""The futures market's record: one future on work, as the exchange returns it, the JSON
codec writes it, the HTTP schema is generated from it and the client decodes it.

A future's life (``economy/future_rules.py`` holds the transitions):

    open ──accept──▶ accepted ──delivery before the deadline──▶ delivered
     │                   └──────deadline passes (settle)──────▶ failed
     ├──cancel (the buyer)──▶ cancelled
     └──deadline passes unaccepted (settle)──▶ expired
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .records import Moment


@dataclass(frozen=True)
class Future:
    """A buyer's price for named work by a deadline. ``work`` is ``bd:<issue id>``,
    ``commit:<project pattern>`` or ``manual``. ``named_seller``, when set, is the only
    agent that may accept; ``seller`` is who accepted. ``escrow`` is what its escrow
    account holds now (the price while open, the collateral while accepted, else 0);
    ``proof`` says what delivered it."""

    id: str
    buyer: str
    work: str
    price: Decimal
    collateral: Decimal
    deadline: Moment
    status: str  # open, accepted, delivered, failed, expired, cancelled
    created_at: Moment
    escrow: Decimal
    named_seller: str | None = None
    seller: str | None = None
    accepted_at: Moment | None = None
    closed_at: Moment | None = None
    proof: str | None = None
    replayed: bool = False  # see economy/records.py
