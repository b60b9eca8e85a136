"""Loans read: the records ``service/loans.py`` returns and the loan reads (``loans``,
``loan_show``, ``loan_offers``, ``credit``), each figure computed at the time asked
(interest accrues by the microsecond)."""

from __future__ import annotations

from ..economy import loan_rules
from ..economy.loan_records import CreditRecord, Loan, LoanOffer
from ..errors import InvalidInput
from ..ledger.loans import LoanRow, OfferRow
from ..money import tokens
from .operations import Core


def offer_record(row: OfferRow) -> LoanOffer:
    return LoanOffer(row.id, row.lender, tokens(row.amount),
                     loan_rules.rate_fraction(row.rate_ppm), row.term_hours, row.max_defaults,
                     row.status, row.created_at, row.closed_at, row.loan_id)


def interest_now(row: LoanRow, now: int) -> int:
    """Interest owed on the loan at ``now`` (carried plus accrued since)."""
    return loan_rules.interest_due(row.outstanding, row.carried, row.rate_ppm, row.accrued_at,
                                   now)


def owed_now(row: LoanRow, now: int) -> int:
    return row.outstanding + interest_now(row, now)


def loan_record(row: LoanRow, now: int) -> Loan:
    due = interest_now(row, now)
    return Loan(row.id, row.offer_id, row.lender, row.borrower, tokens(row.principal),
                loan_rules.rate_fraction(row.rate_ppm), row.term_hours, row.taken_at,
                row.due_at, row.status, tokens(row.outstanding), tokens(due),
                tokens(row.outstanding + due), tokens(row.interest_paid),
                tokens(row.principal_paid), row.defaulted_at, row.repaid_at)


class LoanQueries:
    """The loan reads, each in one consistent snapshot."""

    def __init__(self, core: Core) -> None:
        self._core = core

    def offer_id(self, offer_id: str) -> str:
        """A known offer's id, or InvalidInput."""
        offer_id = loan_rules.parse_id(offer_id, loan_rules.OFFER_ID, "offer-1")
        if self._core.store.loans.offer(offer_id) is None:
            raise InvalidInput(f"unknown offer {offer_id!r}; `token-exchange loan list` "
                               "shows them")
        return offer_id

    def loan_id(self, loan_id: str) -> str:
        loan_id = loan_rules.parse_id(loan_id, loan_rules.LOAN_ID, "loan-1")
        if self._core.store.loans.loan(loan_id) is None:
            raise InvalidInput(f"unknown loan {loan_id!r}; `token-exchange loan list` "
                               "shows them")
        return loan_id

    def offers(self, agent: str | None = None) -> list[LoanOffer]:
        lender = None if agent is None else self._core.agent(agent)
        with self._core.store.snapshot():
            return [offer_record(r) for r in self._core.store.loans.offers(lender)]

    def loans(self, agent: str | None = None) -> list[Loan]:
        party = None if agent is None else self._core.agent(agent)
        now = self._core.clock.now_us()
        with self._core.store.snapshot():
            return [loan_record(r, now) for r in self._core.store.loans.loans(party)]

    def offer_show(self, offer_id: str) -> LoanOffer:
        row = self._core.store.loans.offer(self.offer_id(offer_id))
        assert row is not None
        return offer_record(row)

    def show(self, loan_id: str) -> Loan:
        now = self._core.clock.now_us()
        with self._core.store.snapshot():
            row = self._core.store.loans.loan(self.loan_id(loan_id))
        assert row is not None
        return loan_record(row, now)

    def credit(self, agent: str) -> CreditRecord:
        agent = self._core.agent(agent)
        now = self._core.clock.now_us()
        loans = self._core.store.loans
        with self._core.store.snapshot():
            borrowed = loans.borrowed_by(agent)
            lent = loans.lent_by(agent)
        unpaid = [r for r in borrowed if r.status != "repaid"]
        return CreditRecord(
            agent, len(borrowed), sum(1 for r in borrowed if r.status == "repaid"),
            sum(1 for r in borrowed if r.defaulted_at is not None),
            tokens(sum(owed_now(r, now) for r in unpaid if r.status == "defaulted")),
            tokens(sum(owed_now(r, now) for r in unpaid)),
            tokens(sum(owed_now(r, now) for r in lent)))
