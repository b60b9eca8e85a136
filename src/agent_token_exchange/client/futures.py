"""The futures market over HTTP: ``ExchangeClient`` inherits these methods, the same as
``Exchange``'s (service/futures_facade.py), each returning the same record."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ..economy.future_records import Future
from ..formats.json_codec import from_json


class FutureClient:
    """Futures on work: open, accept, confirm, cancel, list, show."""

    if TYPE_CHECKING:  # ExchangeClient's transport
        def _get(self, path: str, **params: Any) -> dict[str, Any]: ...

        def _post(self, path: str, body: dict[str, Any] | None,
                  idempotency_key: str | None = None) -> dict[str, Any]: ...

    def future_open(
        self, buyer: str, work: str, *, price: Decimal | str | int,
        collateral: Decimal | str | int, deadline_hours: Decimal | str | int,
        seller: str | None = None, idempotency_key: str | None = None,
    ) -> Future:
        body = {"buyer": buyer, "work": work, "price": _text(price),
                "collateral": _text(collateral), "deadline_hours": _text(deadline_hours),
                "seller": seller}
        return from_json(Future, self._post("/v1/futures", body, idempotency_key))

    def future_accept(
        self, future_id: str, seller: str, *, idempotency_key: str | None = None
    ) -> Future:
        return from_json(Future, self._post(f"/v1/futures/{_part(future_id)}/accept",
                                            {"seller": seller}, idempotency_key))

    def future_confirm(
        self, future_id: str, *, agent: str | None = None, idempotency_key: str | None = None
    ) -> Future:
        return from_json(Future, self._post(f"/v1/futures/{_part(future_id)}/confirm",
                                            {"agent": agent}, idempotency_key))

    def future_cancel(
        self, future_id: str, *, agent: str | None = None, idempotency_key: str | None = None
    ) -> Future:
        return from_json(Future, self._post(f"/v1/futures/{_part(future_id)}/cancel",
                                            {"agent": agent}, idempotency_key))

    def futures(self, agent: str | None = None) -> list[Future]:
        return [from_json(Future, f) for f in self._get("/v1/futures", agent=agent)["futures"]]

    def future_show(self, future_id: str) -> Future:
        return from_json(Future, self._get(f"/v1/futures/{_part(future_id)}"))


def _part(text: str) -> str:
    return quote(str(text), safe="")


def _text(value: Decimal | str | int) -> str:
    # Amounts and hours go as decimal strings, as Exchange takes them.
    return format(value, "f") if isinstance(value, Decimal) else str(value)
