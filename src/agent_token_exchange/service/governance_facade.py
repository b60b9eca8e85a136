"""``GovernanceMethods``: staking and governance as methods of ``Exchange`` (a mixin over
the exchange's ``Core``; the roles are built when first used), and ``GovernanceAPI``, the
Protocol of them that ``ExchangeAPI`` (api.py) takes in and ``ExchangeClient`` implements
too (client/governance.py)."""

from __future__ import annotations

from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ..economy.governance_records import Parameter, Proposal, StakeChange, Unbonding
    from ..economy.settle_records import SettledItem
    from .governance import GovernanceOperations
    from .operations import Core
    from .staking import Staking


class GovernanceAPI(Protocol):
    """Staking and governance, wherever the exchange runs."""

    def stake(self, agent: str, amount: Decimal | str | int, *,
              idempotency_key: str | None = None) -> StakeChange: ...

    def unstake(self, agent: str, amount: Decimal | str | int, *,
                idempotency_key: str | None = None) -> StakeChange: ...

    def propose(self, agent: str, parameter: str, value: Decimal | str | int, *, reason: str,
                idempotency_key: str | None = None) -> Proposal: ...

    def vote(self, agent: str, proposal_id: str, choice: str, *,
             idempotency_key: str | None = None) -> Proposal: ...

    def proposals(self) -> list[Proposal]: ...

    def proposal_show(self, proposal_id: str) -> Proposal: ...

    def parameters(self) -> list[Parameter]: ...

    def unbondings(self, agent: str | None = None) -> list[Unbonding]: ...


class GovernanceMethods:
    """stake, unstake, propose, vote, proposals, proposal_show, parameters, unbondings;
    and the two settle steps (``settle_unbondings``, ``settle_proposals``)."""

    _core: Core

    @cached_property
    def _staking(self) -> Staking:
        from .staking import Staking

        return Staking(self._core)

    @cached_property
    def _governance(self) -> GovernanceOperations:
        from .governance import GovernanceOperations

        return GovernanceOperations(self._core)

    def stake(self, agent: str, amount: Decimal | str | int, *,
              idempotency_key: str | None = None) -> StakeChange:
        """Stake tokens for governance: wallet -> stake:AGENT (the reserve applies)."""
        return self._staking.stake(agent, amount, idempotency_key=idempotency_key)

    def unstake(self, agent: str, amount: Decimal | str | int, *,
                idempotency_key: str | None = None) -> StakeChange:
        """Unstake: the tokens come back to the wallet after ``governance.unbonding_hours``."""
        return self._staking.unstake(agent, amount, idempotency_key=idempotency_key)

    def propose(self, agent: str, parameter: str, value: Decimal | str | int, *, reason: str,
                idempotency_key: str | None = None) -> Proposal:
        """Propose a new value for one parameter (``parameters()`` lists them); needs
        ``governance.proposal_threshold`` staked."""
        return self._governance.propose(agent, parameter, value, reason=reason,
                                        idempotency_key=idempotency_key)

    def vote(self, agent: str, proposal_id: str, choice: str, *,
             idempotency_key: str | None = None) -> Proposal:
        """Vote yes, no or abstain with the stake held when the proposal was made (voting
        again replaces the vote)."""
        return self._governance.vote(agent, proposal_id, choice,
                                     idempotency_key=idempotency_key)

    def proposals(self) -> list[Proposal]:
        """Every proposal, oldest first, with its tally."""
        return self._governance.proposals()

    def proposal_show(self, proposal_id: str) -> Proposal:
        """One proposal with its tally and votes."""
        return self._governance.proposal_show(proposal_id)

    def parameters(self) -> list[Parameter]:
        """Each parameter a proposal may change: its effective value and where it comes
        from (``config``, or the id of the proposal that set it)."""
        return self._governance.parameters()

    def unbondings(self, agent: str | None = None) -> list[Unbonding]:
        """Unstaked tokens still waiting out the unbonding period."""
        return self._staking.unbondings(agent)

    # -- settle steps (service/settle.py runs them; not part of ExchangeAPI) --------------

    def settle_unbondings(self) -> list[SettledItem]:
        """Release every unbonding whose time has come."""
        return self._staking.release_due()

    def settle_proposals(self) -> list[SettledItem]:
        """Close ended votes and enact passed proposals whose timelock is over."""
        return self._governance.close_due()


__all__ = ["GovernanceAPI", "GovernanceMethods"]
