"""The loan records the exchange returns (DESIGN.md, "The credit market"): an offer, a
loan, a repayment and an agent's credit record. Frozen dataclasses as in ``records.py``:
amounts are ``Decimal`` tokens, times ``Moment``s; the JSON codec and the HTTP schemas read
them by their field types.

``rate_per_day`` is a fraction a day (0.01 is 1 % a day), kept to six decimal places."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .records import Moment


@dataclass(frozen=True)
class LoanOffer:
    """A lender's offer: ``amount`` waits in ``escrow:offer-N`` while ``status`` is
    ``open``; ``taken`` names the loan it became (``loan_id``), ``cancelled`` returned it.
    ``max_defaults``: borrowers with more defaults on their record are refused."""

    id: str
    lender: str
    amount: Decimal
    rate_per_day: Decimal
    term_hours: int
    max_defaults: int | None
    status: str  # open | taken | cancelled
    created_at: Moment
    closed_at: Moment | None = None
    loan_id: str | None = None
    replayed: bool = False  # see records.py's module docstring


@dataclass(frozen=True)
class Loan:
    """A loan as it stands now: ``outstanding`` principal, ``interest_due`` (accrued and
    unpaid), ``owed`` (their sum: what repaying everything would take now). ``status`` is
    ``open`` until the due time, then ``repaid`` or ``defaulted`` (still repayable: a
    defaulted loan repaid in full becomes ``repaid``, ``defaulted_at`` stays)."""

    id: str
    offer_id: str
    lender: str
    borrower: str
    principal: Decimal
    rate_per_day: Decimal
    term_hours: int
    taken_at: Moment
    due_at: Moment
    status: str  # open | repaid | defaulted
    outstanding: Decimal
    interest_due: Decimal
    owed: Decimal
    interest_paid: Decimal
    principal_paid: Decimal
    defaulted_at: Moment | None = None
    repaid_at: Moment | None = None
    replayed: bool = False


@dataclass(frozen=True)
class LoanRepayment:
    """One repayment (by the borrower, or collected by settle): interest first, then
    principal. ``owed`` is what is left owing after it; ``tokens`` the borrower's balance."""

    loan_id: str
    agent: str  # the borrower
    lender: str
    amount: Decimal
    interest: Decimal
    principal: Decimal
    owed: Decimal
    status: str
    tokens: Decimal
    seq: int
    replayed: bool = False


@dataclass(frozen=True)
class CreditRecord:
    """An agent's record as a borrower: loans taken, repaid in full, ever defaulted (a
    default stays on the record after the loan is repaid), what it owes now on defaulted
    loans (``in_default``) and on all its unrepaid loans (``owed``), and what borrowers owe
    it now as a lender (``lent``)."""

    agent: str
    loans_taken: int
    loans_repaid: int
    loans_defaulted: int
    in_default: Decimal
    owed: Decimal
    lent: Decimal


__all__ = ["CreditRecord", "Loan", "LoanOffer", "LoanRepayment"]
