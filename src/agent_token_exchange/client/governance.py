"""``GovernanceClient``: staking and governance over HTTP, the same methods and records
as ``Exchange`` (a mixin of ``ExchangeClient``, over its ``_get`` and ``_post``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import quote

from ..economy.governance_records import Parameter, Proposal, StakeChange, Unbonding
from ..formats.json_codec import from_json


class GovernanceClient:
    """stake, unstake, propose, vote, proposals, proposal_show, parameters, unbondings."""

    def _get(self, path: str, **params: Any) -> dict[str, Any]:
        raise NotImplementedError

    def _post(self, path: str, body: dict[str, Any] | None,
              idempotency_key: str | None = None) -> dict[str, Any]:
        raise NotImplementedError

    def stake(self, agent: str, amount: Decimal | str | int, *,
              idempotency_key: str | None = None) -> StakeChange:
        return from_json(StakeChange, self._post(
            "/v1/stakes", {"agent": agent, "amount": _amount(amount)}, idempotency_key))

    def unstake(self, agent: str, amount: Decimal | str | int, *,
                idempotency_key: str | None = None) -> StakeChange:
        return from_json(StakeChange, self._post(
            "/v1/unstakes", {"agent": agent, "amount": _amount(amount)}, idempotency_key))

    def propose(self, agent: str, parameter: str, value: Decimal | str | int, *, reason: str,
                idempotency_key: str | None = None) -> Proposal:
        body = {"agent": agent, "parameter": parameter, "value": _amount(value),
                "reason": reason}
        return from_json(Proposal, self._post("/v1/proposals", body, idempotency_key))

    def vote(self, agent: str, proposal_id: str, choice: str, *,
             idempotency_key: str | None = None) -> Proposal:
        return from_json(Proposal, self._post(
            f"/v1/proposals/{_part(proposal_id)}/votes", {"agent": agent, "choice": choice},
            idempotency_key))

    def proposals(self) -> list[Proposal]:
        return [from_json(Proposal, p) for p in self._get("/v1/proposals")["proposals"]]

    def proposal_show(self, proposal_id: str) -> Proposal:
        return from_json(Proposal, self._get(f"/v1/proposals/{_part(proposal_id)}"))

    def parameters(self) -> list[Parameter]:
        return [from_json(Parameter, p) for p in self._get("/v1/parameters")["parameters"]]

    def unbondings(self, agent: str | None = None) -> list[Unbonding]:
        data = self._get("/v1/unbondings", agent=agent)
        return [from_json(Unbonding, u) for u in data["unbondings"]]


def _part(text: str) -> str:
    return quote(str(text), safe="")


def _amount(value: Decimal | str | int) -> str:
    return format(value, "f") if isinstance(value, Decimal) else str(value)


__all__ = ["GovernanceClient"]
