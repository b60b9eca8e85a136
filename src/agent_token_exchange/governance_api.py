"""``GovernanceAPI``: the staking and governance operations of ``ExchangeAPI`` (which
inherits it), declared once for ``Exchange`` (service/governance_facade.py) and
``ExchangeClient`` (client/governance.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:  # for annotations only: importing this module stays cheap
    from .economy.governance_records import Parameter, Proposal, StakeChange, Unbonding


@runtime_checkable
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


__all__ = ["GovernanceAPI"]
