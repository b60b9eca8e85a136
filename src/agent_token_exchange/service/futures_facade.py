"""The futures market's methods on ``Exchange`` (a mixin: ``Exchange`` inherits it). Each
one hands over to ``service/futures.py``; ``client/futures.py`` offers the same methods
over HTTP and ``future_api.FutureAPI`` declares them."""

from __future__ import annotations

from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..economy.future_records import Future
    from .futures import FutureOperations
    from .operations import Core


class FutureMethods:
    """Futures on work: open, accept, confirm, cancel, list, show."""

    _core: Core

    @cached_property
    def _futures(self) -> FutureOperations:
        from .futures import FutureOperations

        return FutureOperations(self._core)

    def future_open(
        self, buyer: str, work: str, *, price: Decimal | str | int,
        collateral: Decimal | str | int, deadline_hours: Decimal | str | int,
        seller: str | None = None, idempotency_key: str | None = None,
    ) -> Future:
        """Escrow ``price`` from ``buyer`` for ``work`` (``bd:<issue>``,
        ``commit:<project pattern>`` or ``manual``) due ``deadline_hours`` from now (24,
        "90m", "2d"); only ``seller`` may accept when one is named."""
        return self._futures.open(buyer, work, price=price, collateral=collateral,
                                  deadline_hours=deadline_hours, seller=seller,
                                  idempotency_key=idempotency_key)

    def future_accept(
        self, future_id: str, seller: str, *, idempotency_key: str | None = None
    ) -> Future:
        """``seller`` posts the future's collateral and is paid its price at once."""
        return self._futures.accept(future_id, seller, idempotency_key=idempotency_key)

    def future_confirm(
        self, future_id: str, *, agent: str | None = None, idempotency_key: str | None = None
    ) -> Future:
        """The buyer (``agent``; by default the buyer acts) confirms ``manual`` work: the
        collateral returns to the seller."""
        return self._futures.confirm(future_id, agent=agent, idempotency_key=idempotency_key)

    def future_cancel(
        self, future_id: str, *, agent: str | None = None, idempotency_key: str | None = None
    ) -> Future:
        """The buyer (``agent``; by default the buyer acts) withdraws a future nobody has
        accepted: the price comes back."""
        return self._futures.cancel(future_id, agent=agent, idempotency_key=idempotency_key)

    def futures(self, agent: str | None = None) -> list[Future]:
        """Every future; with ``agent``, those it bought, sold or is offered."""
        return self._futures.list(agent)

    def future_show(self, future_id: str) -> Future:
        return self._futures.show(future_id)
