"""``FutureAPI``: the futures market's part of ``ExchangeAPI`` (``api.py`` inherits it),
implemented by ``Exchange`` (service/futures_facade.py) and ``ExchangeClient``
(client/futures.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .economy.future_records import Future


class FutureAPI(Protocol):
    """Futures on work: a buyer's escrowed price for named work by a deadline."""

    def future_open(
        self, buyer: str, work: str, *, price: Decimal | str | int,
        collateral: Decimal | str | int, deadline_hours: Decimal | str | int,
        seller: str | None = None, idempotency_key: str | None = None,
    ) -> Future: ...

    def future_accept(
        self, future_id: str, seller: str, *, idempotency_key: str | None = None
    ) -> Future: ...

    def future_confirm(
        self, future_id: str, *, agent: str | None = None, idempotency_key: str | None = None
    ) -> Future: ...

    def future_cancel(
        self, future_id: str, *, agent: str | None = None, idempotency_key: str | None = None
    ) -> Future: ...

    def futures(self, agent: str | None = None) -> list[Future]: ...

    def future_show(self, future_id: str) -> Future: ...
