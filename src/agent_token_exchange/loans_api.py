"""``LoanAPI``: the loan operations of ``ExchangeAPI`` (which inherits it), declared once
for ``Exchange`` (service/loans_facade.py) and ``ExchangeClient`` (client/loans.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:  # for annotations only: importing this module stays cheap
    from .economy.loan_records import CreditRecord, Loan, LoanOffer, LoanRepayment


@runtime_checkable
class LoanAPI(Protocol):
    """Lend and borrow tokens (DESIGN.md, "The credit market")."""

    def loan_offer(
        self, lender: str, amount: Decimal | str | int, *, rate_per_day: Decimal | str | int,
        term_hours: int | str, max_defaults: int | None = None,
        idempotency_key: str | None = None,
    ) -> LoanOffer: ...

    def loan_cancel(self, offer_id: str, *, agent: str | None = None,
                    idempotency_key: str | None = None) -> LoanOffer: ...

    def loan_take(self, offer_id: str, borrower: str, *,
                  idempotency_key: str | None = None) -> Loan: ...

    def loan_repay(self, loan_id: str, amount: Decimal | str | int | None = None, *,
                   agent: str | None = None,
                   idempotency_key: str | None = None) -> LoanRepayment: ...

    def loans(self, agent: str | None = None) -> list[Loan]: ...

    def loan_offers(self, agent: str | None = None) -> list[LoanOffer]: ...

    def loan_offer_show(self, offer_id: str) -> LoanOffer: ...

    def loan_show(self, loan_id: str) -> Loan: ...

    def credit(self, agent: str) -> CreditRecord: ...


__all__ = ["LoanAPI"]
