"""The loan methods of ``Exchange`` (a mixin it inherits): each delegates to
``service/loans.py`` (writes) or ``service/loan_views.py`` (reads), built when first used."""

from __future__ import annotations

from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..economy.loan_records import CreditRecord, Loan, LoanOffer, LoanRepayment
    from .loan_views import LoanQueries
    from .loans import LoanOperations
    from .operations import Core


class LoanMethods:
    """Lend and borrow: ``loan_offer``, ``loan_cancel``, ``loan_take``, ``loan_repay``,
    ``loans``, ``loan_offers``, ``loan_offer_show``, ``loan_show``, ``credit``; and
    ``lending.settle_due()`` for settle."""

    _core: Core

    @cached_property
    def lending(self) -> LoanOperations:
        """The loans' write path, with ``settle_due()`` (settle's loan step: collect or
        default every loan whose due time has come). Server-side only, as ``metering`` is:
        a client lends through the methods below."""
        from .loans import LoanOperations

        return LoanOperations(self._core)

    @cached_property
    def _loan_queries(self) -> LoanQueries:
        from .loan_views import LoanQueries

        return LoanQueries(self._core)

    def loan_offer(
        self, lender: str, amount: Decimal | str | int, *, rate_per_day: Decimal | str | int,
        term_hours: int | str, max_defaults: int | None = None,
        idempotency_key: str | None = None,
    ) -> LoanOffer:
        """Offer a loan: ``amount`` is escrowed from the lender (an outflow: the reserve
        applies) at ``rate_per_day`` (a fraction, 0.01 is 1 % a day; or "1%") for
        ``term_hours`` (48, "48h", "2d"); borrowers with more than ``max_defaults``
        defaults are refused."""
        return self.lending.offer(lender, amount, rate_per_day=rate_per_day,
                                           term_hours=term_hours, max_defaults=max_defaults,
                                           idempotency_key=idempotency_key)

    def loan_cancel(self, offer_id: str, *, agent: str | None = None,
                    idempotency_key: str | None = None) -> LoanOffer:
        """Withdraw an untaken offer as ``agent`` (its lender, the default; anyone else is
        refused, NotAllowed): the escrow returns."""
        return self.lending.cancel(offer_id, agent=agent,
                                            idempotency_key=idempotency_key)

    def loan_take(self, offer_id: str, borrower: str, *,
                  idempotency_key: str | None = None) -> Loan:
        """Take a whole offer: its amount goes to ``borrower``, due after the offer's term.
        Refused (NotAllowed) for the lender itself, an offer no longer open, or a borrower
        with more defaults than the offer allows."""
        return self.lending.take(offer_id, borrower, idempotency_key=idempotency_key)

    def loan_repay(self, loan_id: str, amount: Decimal | str | int | None = None, *,
                   agent: str | None = None,
                   idempotency_key: str | None = None) -> LoanRepayment:
        """Repay ``amount`` (None: everything owed now) as ``agent`` (the borrower, the
        default): interest first, then principal; more than is owed is refused."""
        return self.lending.repay(loan_id, amount, agent=agent,
                                           idempotency_key=idempotency_key)

    def loans(self, agent: str | None = None) -> list[Loan]:
        """Every loan as it stands now; with ``agent``, those it borrowed or lent."""
        return self._loan_queries.loans(agent)

    def loan_offers(self, agent: str | None = None) -> list[LoanOffer]:
        """Every loan offer (open, taken, cancelled); with ``agent``, that lender's."""
        return self._loan_queries.offers(agent)

    def loan_offer_show(self, offer_id: str) -> LoanOffer:
        """One loan offer."""
        return self._loan_queries.offer_show(offer_id)

    def loan_show(self, loan_id: str) -> Loan:
        """One loan with what is owed on it now."""
        return self._loan_queries.show(loan_id)

    def credit(self, agent: str) -> CreditRecord:
        """An agent's credit record: loans taken, repaid, defaulted, the amount in default
        and owed now (and owed to it as a lender)."""
        return self._loan_queries.credit(agent)
