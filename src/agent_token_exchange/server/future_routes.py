"""The futures routes under /v1. Reads: futures are a market's board, so every key reads
every future (a seller must see what it may accept). Writes: a key acts as its own agent
(an admin key as any); the service's rules decide the rest (only the buyer confirms or
cancels, only a named seller accepts: 402 not_allowed, a refusal event kept)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from ..economy.future_records import Future
from ..errors import InvalidInput, NotFound
from ..formats.json_codec import to_json
from ..service.exchange import Exchange
from . import schemas as s
from .auth import Caller, ExchangeDep, run_write
from .routing import ERRORS, WRITE_ERRORS, ScopedIdempotencyKey, acting_agent, known_agent

FutureView = s.response_model(Future)
FutureList = s.envelope("FutureList", "futures", Future)
Hours = Annotated[StrictInt | Annotated[str, Field(min_length=1, max_length=20)], Field(
    description="Hours until the deadline (24), or a duration: 90m, 24h, 2d, 1w",
    examples=["24h"])]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FutureOpenRequest(_In):
    buyer: s.Name
    work: Annotated[str, Field(min_length=1, max_length=210, description=(
        "bd:<issue id>, commit:<project pattern> (RE2, full match) or manual"),
        examples=["bd:bd-0479m"])]
    price: s.AmountIn
    collateral: s.AmountIn
    deadline_hours: Hours
    seller: Annotated[str | None, Field(max_length=64, description=(
        "only this agent may accept (default: any agent but the buyer)"))] = None


class FutureAcceptRequest(_In):
    seller: s.Name


class FutureActorRequest(_In):
    agent: Annotated[str | None, Field(max_length=64, description=(
        "an admin key: act as this agent (default: the buyer); an agent's key acts as "
        "itself"))] = None


def known_future(ex: Exchange, future_id: str) -> str:
    """The future's id, or 404."""
    try:
        return ex.future_show(future_id).id
    except InvalidInput as exc:
        raise NotFound(exc.message) from None


def future_router() -> APIRouter:
    api = APIRouter()

    @api.get("/futures", response_model=FutureList, responses=ERRORS, tags=["futures"])
    def futures(caller: Caller, ex: ExchangeDep, agent: Annotated[str | None, Query(
            max_length=64, description="only the futures this agent bought, sold or is "
            "offered")] = None) -> dict[str, Any]:
        """Every future with its status, deadline and escrow (every key reads the board)."""
        named = None if agent is None else known_agent(ex, agent)
        return {"futures": [to_json(f) for f in ex.futures(named)]}

    @api.get("/futures/{future_id}", response_model=FutureView, responses=ERRORS,
             tags=["futures"])
    def future_show(future_id: str, caller: Caller, ex: ExchangeDep) -> dict[str, Any]:
        """One future: its work, price, collateral, deadline, parties and status."""
        try:
            return to_json(ex.future_show(future_id))
        except InvalidInput as exc:
            raise NotFound(exc.message) from None

    @api.post("/futures", response_model=FutureView, responses=WRITE_ERRORS, tags=["futures"])
    async def future_open(request: Request, body: FutureOpenRequest, caller: Caller,
                          ex: ExchangeDep, idempotency_key: ScopedIdempotencyKey
                          ) -> dict[str, Any]:
        """Open a future as the key's agent (the buyer): its price is escrowed from the
        buyer's wallet (the reserve applies)."""

        def run() -> dict[str, Any]:
            caller.require_agent(body.buyer)
            return to_json(ex.future_open(
                body.buyer, body.work, price=body.price, collateral=body.collateral,
                deadline_hours=body.deadline_hours, seller=body.seller,
                idempotency_key=idempotency_key))

        return await run_write(request, run)

    @api.post("/futures/{future_id}/accept", response_model=FutureView,
              responses=WRITE_ERRORS, tags=["futures"])
    async def future_accept(request: Request, future_id: str, body: FutureAcceptRequest,
                            caller: Caller, ex: ExchangeDep,
                            idempotency_key: ScopedIdempotencyKey) -> dict[str, Any]:
        """Accept a future as the key's agent (the seller): its collateral is escrowed and
        the price paid to it at once."""

        def run() -> dict[str, Any]:
            known = known_future(ex, future_id)
            caller.require_agent(body.seller)
            return to_json(ex.future_accept(known, body.seller,
                                            idempotency_key=idempotency_key))

        return await run_write(request, run)

    @api.post("/futures/{future_id}/confirm", response_model=FutureView,
              responses=WRITE_ERRORS, tags=["futures"])
    async def future_confirm(request: Request, future_id: str, body: FutureActorRequest,
                             caller: Caller, ex: ExchangeDep,
                             idempotency_key: ScopedIdempotencyKey) -> dict[str, Any]:
        """Confirm manual work as the buyer's key: the collateral returns to the seller."""

        def run() -> dict[str, Any]:
            known = known_future(ex, future_id)
            return to_json(ex.future_confirm(known, agent=acting_agent(caller, ex, body.agent),
                                             idempotency_key=idempotency_key))

        return await run_write(request, run)

    @api.post("/futures/{future_id}/cancel", response_model=FutureView,
              responses=WRITE_ERRORS, tags=["futures"])
    async def future_cancel(request: Request, future_id: str, body: FutureActorRequest,
                            caller: Caller, ex: ExchangeDep,
                            idempotency_key: ScopedIdempotencyKey) -> dict[str, Any]:
        """Withdraw a future nobody accepted, as the buyer's key: the price comes back."""

        def run() -> dict[str, Any]:
            known = known_future(ex, future_id)
            return to_json(ex.future_cancel(known, agent=acting_agent(caller, ex, body.agent),
                                            idempotency_key=idempotency_key))

        return await run_write(request, run)

    return api
