"""The credit market's summary reads on ``ExchangeClient`` (a mixin it inherits), over the
/v1 routes (server/governance_routes.py serves /v1/stakes)."""

from __future__ import annotations

from typing import Any

from ..economy.market_records import Stake
from ..formats.json_codec import from_json


class MarketClient:
    """``MarketAPI`` over HTTP: uses the client's ``_get``."""

    def _get(self, path: str, **params: Any) -> dict[str, Any]:
        raise NotImplementedError  # ExchangeClient's

    def stakes(self, agent: str | None = None) -> list[Stake]:
        return [from_json(Stake, x) for x in self._get("/v1/stakes", agent=agent)["stakes"]]


__all__ = ["MarketClient"]
