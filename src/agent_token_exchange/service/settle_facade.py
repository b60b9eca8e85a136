"""``Exchange.settle``: the facade's part of settle (service/settle.py runs the steps), and
its place in the ``ExchangeAPI`` Protocol (import-light: api.py loads it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ..economy.settle_records import SettleReport
    from .operations import Core


class SettleAPI(Protocol):
    """``ExchangeAPI``'s part for settle (``Exchange`` and ``ExchangeClient`` offer it)."""

    def settle(self) -> SettleReport: ...


class SettleMethods:
    """Mixed into ``Exchange``: settle everything that has fallen due."""

    _core: Core

    def settle(self) -> SettleReport:
        """Apply everything due (stale gateway reservations today; loans, futures,
        unbonding and proposals as their parts add their steps) and report each item.
        Idempotent: a second run at once settles nothing."""
        from .settle import run_settle

        return run_settle(self._core)


__all__ = ["SettleAPI", "SettleMethods"]
