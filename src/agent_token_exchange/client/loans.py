"""The loan methods of ``ExchangeClient`` (a mixin it inherits), over the /v1 loan routes
(server/loan_routes.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import quote

from ..economy.loan_records import CreditRecord, Loan, LoanOffer, LoanRepayment
from ..formats.json_codec import from_json


class LoanClient:
    """``LoanAPI`` over HTTP: uses the client's ``_get`` and ``_post``."""

    def _get(self, path: str, **params: Any) -> dict[str, Any]:
        raise NotImplementedError  # ExchangeClient's

    def _post(self, path: str, body: dict[str, Any] | None,
              idempotency_key: str | None = None) -> dict[str, Any]:
        raise NotImplementedError  # ExchangeClient's

    def loan_offer(
        self, lender: str, amount: Decimal | str | int, *, rate_per_day: Decimal | str | int,
        term_hours: int | str, max_defaults: int | None = None,
        idempotency_key: str | None = None,
    ) -> LoanOffer:
        body = {"lender": lender, "amount": _text(amount), "rate_per_day": _text(rate_per_day),
                "term_hours": _text(term_hours), "max_defaults": max_defaults}
        return from_json(LoanOffer, self._post("/v1/loans/offers", body, idempotency_key))

    def loan_cancel(self, offer_id: str, *, agent: str | None = None,
                    idempotency_key: str | None = None) -> LoanOffer:
        return from_json(LoanOffer, self._post(
            f"/v1/loans/offers/{_part(offer_id)}/cancel", {"agent": agent}, idempotency_key))

    def loan_take(self, offer_id: str, borrower: str, *,
                  idempotency_key: str | None = None) -> Loan:
        return from_json(Loan, self._post(
            f"/v1/loans/offers/{_part(offer_id)}/take", {"borrower": borrower},
            idempotency_key))

    def loan_repay(self, loan_id: str, amount: Decimal | str | int | None = None, *,
                   agent: str | None = None,
                   idempotency_key: str | None = None) -> LoanRepayment:
        body = {"amount": None if amount is None else _text(amount), "agent": agent}
        return from_json(LoanRepayment, self._post(
            f"/v1/loans/{_part(loan_id)}/repay", body, idempotency_key))

    def loans(self, agent: str | None = None) -> list[Loan]:
        return [from_json(Loan, x) for x in self._get("/v1/loans", agent=agent)["loans"]]

    def loan_offers(self, agent: str | None = None) -> list[LoanOffer]:
        data = self._get("/v1/loans/offers", agent=agent)
        return [from_json(LoanOffer, x) for x in data["offers"]]

    def loan_offer_show(self, offer_id: str) -> LoanOffer:
        return from_json(LoanOffer, self._get(f"/v1/loans/offers/{_part(offer_id)}"))

    def loan_show(self, loan_id: str) -> Loan:
        return from_json(Loan, self._get(f"/v1/loans/{_part(loan_id)}"))

    def credit(self, agent: str) -> CreditRecord:
        return from_json(CreditRecord, self._get(f"/v1/agents/{_part(agent)}/credit"))


def _part(text: str) -> str:
    return quote(str(text), safe="")


def _text(value: Decimal | str | int) -> str:
    # Amounts and rates go as decimal strings, as Exchange takes them.
    return format(value, "f") if isinstance(value, Decimal) else str(value)
