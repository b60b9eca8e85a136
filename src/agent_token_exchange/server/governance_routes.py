"""Staking and governance under /v1. Writes: an agent's key stakes, unstakes, proposes and
votes only as its own agent; an admin key as any. Reads: proposals and parameters are
public to every key (a vote is only as good as its openness); an agent's key sees its
own unbondings."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from ..economy import governance_records as records
from ..formats.json_codec import to_json
from ..service import access
from .auth import Caller, ExchangeDep, run_write
from .routing import ERRORS, WRITE_ERRORS, ScopedIdempotencyKey, known_agent
from .schemas import AmountIn, Name, envelope, response_model

StakeChange = response_model(records.StakeChange)
Proposal = response_model(records.Proposal)
ProposalList = envelope("ProposalList", "proposals", records.Proposal)
ParameterList = envelope("ParameterList", "parameters", records.Parameter)
UnbondingList = envelope("UnbondingList", "unbondings", records.Unbonding)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StakeRequest(_In):
    agent: Name
    amount: AmountIn


class ProposeRequest(_In):
    agent: Annotated[str, Field(min_length=1, max_length=64, description="the proposer, "
                                "with at least governance.proposal_threshold staked")]
    parameter: Annotated[str, Field(min_length=1, max_length=200,
                                    examples=["rate_limits.hourly"])]
    value: Annotated[str, Field(min_length=1, max_length=40, examples=["2000"])]
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class VoteRequest(_In):
    agent: Name
    choice: Annotated[str, Field(min_length=1, max_length=16, examples=["yes"],
                                 description="yes, no or abstain")]


def governance_router() -> APIRouter:
    api = APIRouter()

    @api.post("/stakes", response_model=StakeChange, responses=WRITE_ERRORS,
              tags=["governance"])
    async def stake(request: Request, body: StakeRequest, caller: Caller, ex: ExchangeDep,
                    idempotency_key: ScopedIdempotencyKey) -> dict[str, Any]:
        """Stake tokens from the key's agent's wallet (the reserve applies)."""

        def run() -> dict[str, Any]:
            caller.require_agent(body.agent)
            return to_json(ex.stake(body.agent, body.amount, idempotency_key=idempotency_key))

        return await run_write(request, run)

    @api.post("/unstakes", response_model=StakeChange, responses=WRITE_ERRORS,
              tags=["governance"])
    async def unstake(request: Request, body: StakeRequest, caller: Caller, ex: ExchangeDep,
                      idempotency_key: ScopedIdempotencyKey) -> dict[str, Any]:
        """Unstake: the tokens return to the wallet after the unbonding period."""

        def run() -> dict[str, Any]:
            caller.require_agent(body.agent)
            return to_json(ex.unstake(body.agent, body.amount,
                                      idempotency_key=idempotency_key))

        return await run_write(request, run)

    @api.post("/proposals", response_model=Proposal, responses=WRITE_ERRORS,
              tags=["governance"])
    async def propose(request: Request, body: ProposeRequest, caller: Caller,
                      ex: ExchangeDep, idempotency_key: ScopedIdempotencyKey
                      ) -> dict[str, Any]:
        """Propose a new value for one parameter, as the key's agent."""

        def run() -> dict[str, Any]:
            caller.require_agent(body.agent)
            return to_json(ex.propose(body.agent, body.parameter, body.value,
                                      reason=body.reason, idempotency_key=idempotency_key))

        return await run_write(request, run)

    @api.post("/proposals/{proposal_id}/votes", response_model=Proposal,
              responses=WRITE_ERRORS, tags=["governance"])
    async def vote(request: Request, proposal_id: str, body: VoteRequest, caller: Caller,
                   ex: ExchangeDep, idempotency_key: ScopedIdempotencyKey) -> dict[str, Any]:
        """Vote yes, no or abstain as the key's agent (again: the vote is replaced)."""

        def run() -> dict[str, Any]:
            caller.require_agent(body.agent)
            return to_json(ex.vote(body.agent, proposal_id, body.choice,
                                   idempotency_key=idempotency_key))

        return await run_write(request, run)

    @api.get("/proposals", response_model=ProposalList, responses=ERRORS,
             tags=["governance"])
    def proposals(caller: Caller, ex: ExchangeDep) -> dict[str, Any]:
        """Every proposal with its live tally and votes."""
        return {"proposals": [to_json(p) for p in ex.proposals()]}

    @api.get("/proposals/{proposal_id}", response_model=Proposal, responses=ERRORS,
             tags=["governance"])
    def proposal_show(proposal_id: str, caller: Caller, ex: ExchangeDep) -> dict[str, Any]:
        """One proposal with its tally and votes."""
        return to_json(ex.proposal_show(proposal_id))

    @api.get("/parameters", response_model=ParameterList, responses=ERRORS,
             tags=["governance"])
    def parameters(caller: Caller, ex: ExchangeDep) -> dict[str, Any]:
        """Each parameter a proposal may change: its effective value and its source
        (config, or the proposal that set it)."""
        return {"parameters": [to_json(p) for p in ex.parameters()]}

    @api.get("/unbondings", response_model=UnbondingList, responses=ERRORS,
             tags=["governance"])
    def unbondings(caller: Caller, ex: ExchangeDep,
                   agent: Annotated[str | None, Query(max_length=64)] = None
                   ) -> dict[str, Any]:
        """Unstaked tokens waiting out the unbonding period (an agent's key: its own)."""
        viewer = access.reader(caller, None if agent is None else known_agent(ex, agent))
        return {"unbondings": [to_json(u) for u in ex.unbondings(viewer)]}

    return api


__all__ = ["governance_router"]
