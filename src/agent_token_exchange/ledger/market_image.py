"""The credit market's part of a ledger image: loan offers, loans and futures, read from
and written back into their tables with every id, number and time kept.

``read_market`` reads them (all, or those at/after ``since`` and involving ``agent``);
``restore_market`` writes an image's rows into an empty store (the import);
``check_market_references`` and ``check_market_escrows`` refuse an image whose rows do not
hold together: a loan whose offer is absent, an escrow account holding other than what its
record says (the same agreement doctor's loan and future checks ask for). Offers, loans
and futures take their next number from ``MAX(number) + 1``, so numbering continues after
an import on every backend by itself.
"""

from __future__ import annotations

from dataclasses import astuple, fields
from typing import TYPE_CHECKING, Any

from ..economy.accounts import future_escrow, offer_escrow
from ..economy.future_rules import escrow_held
from ..errors import InvalidInput
from ..money import format_amount
from .futures import FutureRow
from .loans import LoanRow, OfferRow

if TYPE_CHECKING:
    from .accounts import AccountRow
    from .store import Store

# Each market section of an image: its table and its row type (whose fields are the
# table's columns, in order).
MARKET_TABLES: dict[str, tuple[str, type]] = {
    "loan_offers": ("loan_offers", OfferRow),
    "loans": ("loans", LoanRow),
    "futures": ("futures", FutureRow),
}


def read_market(store: Store, *, since: int | None = None,
                agent: str | None = None) -> dict[str, list[Any]]:
    """Every market row (or those created at/after ``since`` that involve ``agent``)."""
    offers = [o for o in store.loans.offers()
              if (agent is None or o.lender == agent)
              and (since is None or o.created_at >= since)]
    loans = [loan for loan in store.loans.loans()
             if (agent is None or agent in (loan.lender, loan.borrower))
             and (since is None or loan.taken_at >= since)]
    futures = [f for f in store.futures.all()
               if (agent is None or agent in (f.buyer, f.seller, f.named_seller))
               and (since is None or f.created_at >= since)]
    return {"loan_offers": offers, "loans": loans, "futures": futures}


def restore_market(store: Store, sections: dict[str, list[Any]]) -> None:
    """Write the image's market rows into an empty store, as they are."""
    for section, (table, row_type) in MARKET_TABLES.items():
        columns = [f.name for f in fields(row_type)]
        sql = (f"INSERT INTO {table} ({', '.join(columns)}) "
               f"VALUES ({', '.join('?' * len(columns))})")
        for row in sections.get(section, []):
            store.execute(sql, astuple(row))


def check_market_references(sections: dict[str, list[Any]]) -> None:
    """Ids and numbers are unique, and every offer a loan names (and loan an offer names)
    is in the image and agrees with it."""
    for section in MARKET_TABLES:
        seen_ids: set[str] = set()
        seen_numbers: set[int] = set()
        for row in sections.get(section, []):
            if row.id in seen_ids or row.number in seen_numbers:
                raise InvalidInput(f"{row.id}: the file lists that id (or number "
                                   f"{row.number}) twice; nothing was imported")
            seen_ids.add(row.id)
            seen_numbers.add(row.number)
    offers = {o.id: o for o in sections.get("loan_offers", [])}
    loans = {loan.id: loan for loan in sections.get("loans", [])}
    for loan in loans.values():
        offer = offers.get(loan.offer_id)
        if offer is None:
            raise InvalidInput(f"{loan.id} was taken from {loan.offer_id}, which the file "
                               "does not list; nothing was imported")
        if (offer.status, offer.loan_id, offer.lender, offer.amount) != (
                "taken", loan.id, loan.lender, loan.principal):
            raise InvalidInput(f"{loan.id} and its offer {offer.id} disagree (the offer must "
                               "be taken by this loan, from the same lender, for its "
                               "principal); nothing was imported")
    for offer in offers.values():
        if (offer.status == "taken") != (offer.loan_id is not None) or (
                offer.loan_id is not None and offer.loan_id not in loans):
            raise InvalidInput(f"{offer.id} is {offer.status} but names loan "
                               f"{offer.loan_id!r}: a taken offer names the loan the file "
                               "lists for it, any other names none; nothing was imported")


def check_market_escrows(sections: dict[str, list[Any]],
                         accounts: list[AccountRow]) -> None:
    """Every escrow account holds what its record says — an open offer its amount, a
    future what its status gives — and no escrow without a record holds anything.
    (The balances were already checked against the transfers.)"""
    expected: dict[str, tuple[int, str]] = {}
    for offer in sections.get("loan_offers", []):
        expected[offer_escrow(offer.id)] = (offer.amount if offer.status == "open" else 0,
                                            f"{offer.id} is {offer.status}")
    for future in sections.get("futures", []):
        expected[future_escrow(future.id)] = (
            escrow_held(future.status, future.price, future.collateral),
            f"{future.id} is {future.status}")
    held = {a.name: a.balance for a in accounts if a.name.startswith("escrow:")}
    for name in sorted(set(held) | set(expected)):
        balance = held.get(name, 0)
        want, why = expected.get(name, (0, "no record in the file has that escrow"))
        if balance != want:
            raise InvalidInput(f"{name} holds {format_amount(balance)} but {why} (it should "
                               f"hold {format_amount(want)}); nothing was imported")
    for loan in sections.get("loans", []):
        if loan.principal_paid + loan.outstanding != loan.principal:
            raise InvalidInput(f"{loan.id}: {format_amount(loan.principal_paid)} repaid and "
                               f"{format_amount(loan.outstanding)} outstanding do not make "
                               f"its principal {format_amount(loan.principal)}; nothing was "
                               "imported")


__all__ = ["MARKET_TABLES", "FutureRow", "LoanRow", "OfferRow", "check_market_escrows",
           "check_market_references", "read_market", "restore_market"]
