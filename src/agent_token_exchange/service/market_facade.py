"""``MarketReads``: reads of the credit market as a whole, as methods of ``Exchange`` (a
mixin over the exchange's ``Core``). Their Protocol is ``MarketAPI`` (market_api.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..money import tokens

if TYPE_CHECKING:
    from ..economy.market_records import Stake
    from .operations import Core


class MarketReads:
    """stakes: every agent's stake and unbonding."""

    _core: Core

    def stakes(self, agent: str | None = None) -> list[Stake]:
        """Each agent with tokens staked or unbonding (or the one named, even at zero),
        by name: staked, unbonding and the soonest release."""
        from ..economy.market_records import Stake

        core = self._core
        named = None if agent is None else core.agent(agent)
        staked = core.store.governance.all_stakes()
        pending = core.store.governance.pending(named)  # soonest release first
        unbonding: dict[str, int] = {}
        next_release: dict[str, int] = {}
        for row in pending:
            unbonding[row.agent] = unbonding.get(row.agent, 0) + row.amount
            next_release.setdefault(row.agent, row.release_at)
        agents = [named] if named is not None else sorted(
            a for a in set(staked) | set(unbonding) if staked.get(a, 0) or unbonding.get(a, 0))
        return [Stake(a, tokens(staked.get(a, 0)), tokens(unbonding.get(a, 0)),
                      next_release.get(a)) for a in agents]


__all__ = ["MarketReads"]
