"""Loans: the ``loan_offers`` and ``loans`` tables (migration 8). Rows only: the rules are
in ``economy/loan_rules.py`` and the service decides every change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .store import Store


@dataclass(frozen=True)
class OfferRow:
    id: str
    number: int
    lender: str
    amount: int
    rate_ppm: int
    term_hours: int
    max_defaults: int | None
    status: str  # open | taken | cancelled
    created_at: int
    closed_at: int | None
    loan_id: str | None


@dataclass(frozen=True)
class LoanRow:
    """A loan: ``outstanding`` principal, ``carried`` interest accrued up to
    ``accrued_at`` and not yet paid."""

    id: str
    number: int
    offer_id: str
    lender: str
    borrower: str
    principal: int
    rate_ppm: int
    term_hours: int
    taken_at: int
    due_at: int
    status: str  # open | repaid | defaulted
    outstanding: int
    carried: int
    accrued_at: int
    interest_paid: int
    principal_paid: int
    defaulted_at: int | None
    repaid_at: int | None


_OFFER_COLUMNS = ("id, number, lender, amount, rate_ppm, term_hours, max_defaults, status, "
                  "created_at, closed_at, loan_id")
_LOAN_COLUMNS = ("id, number, offer_id, lender, borrower, principal, rate_ppm, term_hours, "
                 "taken_at, due_at, status, outstanding, carried, accrued_at, interest_paid, "
                 "principal_paid, defaulted_at, repaid_at")


def _offer(row: tuple) -> OfferRow:
    (id_, number, lender, amount, rate, term, max_defaults, status, created, closed,
     loan_id) = row
    return OfferRow(id_, int(number), lender, int(amount), int(rate), int(term),
                    None if max_defaults is None else int(max_defaults), status, int(created),
                    None if closed is None else int(closed), loan_id)


def _loan(row: tuple) -> LoanRow:
    id_, number, offer_id, lender, borrower = row[:5]
    status, defaulted, repaid = row[10], row[16], row[17]
    principal, rate, term, taken, due = (int(v) for v in row[5:10])
    outstanding, carried, accrued, interest_paid, principal_paid = (int(v) for v in row[11:16])
    return LoanRow(id_, int(number), offer_id, lender, borrower, principal, rate, term, taken,
                   due, status, outstanding, carried, accrued, interest_paid, principal_paid,
                   None if defaulted is None else int(defaulted),
                   None if repaid is None else int(repaid))


class Loans:
    """The ``loan_offers`` and ``loans`` tables."""

    def __init__(self, db: Store) -> None:
        self._db = db

    # -- offers ---------------------------------------------------------------------------

    def next_offer_number(self) -> int:
        return self._db.number("SELECT COALESCE(MAX(number), 0) + 1 FROM loan_offers")

    def create_offer(self, offer_id: str, number: int, lender: str, amount: int,
                     rate_ppm: int, term_hours: int, max_defaults: int | None,
                     at: int) -> None:
        self._db.execute(
            "INSERT INTO loan_offers (id, number, lender, amount, rate_ppm, term_hours, "
            "max_defaults, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?)",
            (offer_id, number, lender, amount, rate_ppm, term_hours, max_defaults, at))

    def offer(self, offer_id: str) -> OfferRow | None:
        row = self._db.one(f"SELECT {_OFFER_COLUMNS} FROM loan_offers WHERE id = ?",
                           (offer_id,))
        return _offer(row) if row else None

    def offers(self, lender: str | None = None) -> list[OfferRow]:
        """Every offer (or one lender's), by number."""
        where, params = ("WHERE lender = ? ", (lender,)) if lender is not None else ("", ())
        return [_offer(r) for r in self._db.all(
            f"SELECT {_OFFER_COLUMNS} FROM loan_offers {where}ORDER BY number", params)]

    def close_offer(self, offer_id: str, status: str, at: int,
                    loan_id: str | None = None) -> bool:
        """Mark an open offer taken or cancelled; False if it was no longer open."""
        cursor = self._db.execute(
            "UPDATE loan_offers SET status = ?, closed_at = ?, loan_id = ? "
            "WHERE id = ? AND status = 'open'", (status, at, loan_id, offer_id))
        return bool(cursor.rowcount == 1)

    # -- loans ----------------------------------------------------------------------------

    def next_loan_number(self) -> int:
        return self._db.number("SELECT COALESCE(MAX(number), 0) + 1 FROM loans")

    def create_loan(self, loan_id: str, number: int, offer: OfferRow, borrower: str,
                    at: int, due_at: int) -> None:
        self._db.execute(
            "INSERT INTO loans (id, number, offer_id, lender, borrower, principal, rate_ppm, "
            "term_hours, taken_at, due_at, status, outstanding, carried, accrued_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, 0, ?)",
            (loan_id, number, offer.id, offer.lender, borrower, offer.amount, offer.rate_ppm,
             offer.term_hours, at, due_at, offer.amount, at))

    def loan(self, loan_id: str) -> LoanRow | None:
        row = self._db.one(f"SELECT {_LOAN_COLUMNS} FROM loans WHERE id = ?", (loan_id,))
        return _loan(row) if row else None

    def loans(self, agent: str | None = None) -> list[LoanRow]:
        """Every loan (or those ``agent`` borrowed or lent), by number."""
        where, params = (("WHERE borrower = ? OR lender = ? ", (agent, agent))
                         if agent is not None else ("", ()))
        return [_loan(r) for r in self._db.all(
            f"SELECT {_LOAN_COLUMNS} FROM loans {where}ORDER BY number", params)]

    def borrowed_by(self, borrower: str) -> list[LoanRow]:
        return [_loan(r) for r in self._db.all(
            f"SELECT {_LOAN_COLUMNS} FROM loans WHERE borrower = ? ORDER BY number",
            (borrower,))]

    def lent_by(self, lender: str) -> list[LoanRow]:
        return [_loan(r) for r in self._db.all(
            f"SELECT {_LOAN_COLUMNS} FROM loans WHERE lender = ? AND status <> 'repaid' "
            "ORDER BY number", (lender,))]

    def defaults_of(self, borrower: str) -> int:
        """How many of the borrower's loans ever defaulted (repaid later or not)."""
        return self._db.number("SELECT COUNT(*) FROM loans WHERE borrower = ? "
                               "AND defaulted_at IS NOT NULL", (borrower,))

    def due(self, now: int) -> list[str]:
        """Open loans whose due time has come, oldest due first (the index ``loans_due``)."""
        return [r[0] for r in self._db.all(
            "SELECT id FROM loans WHERE status = 'open' AND due_at <= ? ORDER BY due_at, number",
            (now,))]

    def record_payment(self, loan_id: str, *, outstanding: int, carried: int, at: int,
                       interest_paid: int, principal_paid: int) -> None:
        """A repayment: the principal and carried interest left, accrual restarted at
        ``at``, and what was paid added to the totals."""
        self._db.execute(
            "UPDATE loans SET outstanding = ?, carried = ?, accrued_at = ?, "
            "interest_paid = interest_paid + ?, principal_paid = principal_paid + ? "
            "WHERE id = ?",
            (outstanding, carried, at, interest_paid, principal_paid, loan_id))

    def set_status(self, loan_id: str, status: str, at: int) -> None:
        """``repaid`` (sets repaid_at) or ``defaulted`` (sets defaulted_at)."""
        column = "repaid_at" if status == "repaid" else "defaulted_at"
        self._db.execute(f"UPDATE loans SET status = ?, {column} = ? WHERE id = ?",
                         (status, at, loan_id))
