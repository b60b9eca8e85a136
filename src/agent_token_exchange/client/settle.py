"""``ExchangeClient.settle``: ``POST /v1/settle`` (an admin key)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..economy.settle_records import SettleReport
from ..formats.json_codec import from_json


class SettleClient:
    """Mixed into ``ExchangeClient``: settle on the server."""

    if TYPE_CHECKING:  # ExchangeClient's transport
        def _post(self, path: str, body: dict[str, Any] | None,
                  idempotency_key: str | None = None) -> dict[str, Any]: ...

    def settle(self) -> SettleReport:
        return from_json(SettleReport, self._post("/v1/settle", None))


__all__ = ["SettleClient"]
