"""``GovernanceMethods``: staking and governance as methods of ``Exchange`` (a mixin over
the exchange's ``Core``; the roles are built when first used). Their Protocol is
``GovernanceAPI`` (governance_api.py)."""

from __future__ import annotations

from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..economy.governance_records import Parameter, Proposal, StakeChange, Unbonding
    from .governance import GovernanceOperations
    from .operations import Core
    from .staking import Staking


class GovernanceMethods:
    """stake, unstake, propose, vote, proposals, proposal_show, parameters, unbondings;
    the settle steps are ``staking.release_due`` and ``governance.close_due``."""

    _core: Core

    # The roles, public as ``Exchange.metering`` is: their settle steps (``release_due``,
    # ``close_due``) are for service/settle.py, server-side, so not part of ExchangeAPI.
    @cached_property
    def staking(self) -> Staking:
        """Stakes and unbondings; ``release_due()`` is the unbonding settle step."""
        from .staking import Staking

        return Staking(self._core)

    @cached_property
    def governance(self) -> GovernanceOperations:
        """Proposals and votes; ``close_due()`` is the settle step that closes ended votes
        and enacts passed proposals whose timelock is over."""
        from .governance import GovernanceOperations

        return GovernanceOperations(self._core)

    def stake(self, agent: str, amount: Decimal | str | int, *,
              idempotency_key: str | None = None) -> StakeChange:
        """Stake tokens for governance: wallet -> stake:AGENT (the reserve applies)."""
        return self.staking.stake(agent, amount, idempotency_key=idempotency_key)

    def unstake(self, agent: str, amount: Decimal | str | int, *,
                idempotency_key: str | None = None) -> StakeChange:
        """Unstake: the tokens come back to the wallet after ``governance.unbonding_hours``."""
        return self.staking.unstake(agent, amount, idempotency_key=idempotency_key)

    def propose(self, agent: str, parameter: str, value: Decimal | str | int, *, reason: str,
                idempotency_key: str | None = None) -> Proposal:
        """Propose a new value for one parameter (``parameters()`` lists them); needs
        ``governance.proposal_threshold`` staked."""
        return self.governance.propose(agent, parameter, value, reason=reason,
                                        idempotency_key=idempotency_key)

    def vote(self, agent: str, proposal_id: str, choice: str, *,
             idempotency_key: str | None = None) -> Proposal:
        """Vote yes, no or abstain with the stake held when the proposal was made (voting
        again replaces the vote)."""
        return self.governance.vote(agent, proposal_id, choice,
                                     idempotency_key=idempotency_key)

    def proposals(self) -> list[Proposal]:
        """Every proposal, oldest first, with its tally."""
        return self.governance.proposals()

    def proposal_show(self, proposal_id: str) -> Proposal:
        """One proposal with its tally and votes."""
        return self.governance.proposal_show(proposal_id)

    def parameters(self) -> list[Parameter]:
        """Each parameter a proposal may change: its effective value and where it comes
        from (``config``, or the id of the proposal that set it)."""
        return self.governance.parameters()

    def unbondings(self, agent: str | None = None) -> list[Unbonding]:
        """Unstaked tokens still waiting out the unbonding period."""
        return self.staking.unbondings(agent)


__all__ = ["GovernanceMethods"]
