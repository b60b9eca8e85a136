"""``MarketAPI``: the credit market's summary reads of ``ExchangeAPI`` (which inherits it),
declared once for ``Exchange`` (service/market_facade.py) and ``ExchangeClient``
(client/market.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:  # for annotations only: importing this module stays cheap
    from .economy.market_records import Stake


@runtime_checkable
class MarketAPI(Protocol):
    """The credit market read as a whole, wherever the exchange runs."""

    def stakes(self, agent: str | None = None) -> list[Stake]: ...


__all__ = ["MarketAPI"]
