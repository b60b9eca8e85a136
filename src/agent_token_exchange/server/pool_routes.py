"""The pool routes under /v1. Reads: an agent's key sees its own pools (member, former
member or invited) and open ones (service/access.py). Writes: a key acts as its own agent;
the service's pool rules (consent, stakes, each member's limits) decide the rest."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from ..errors import Forbidden
from ..formats.json_codec import to_json
from ..service import access
from . import schemas as s
from .auth import Caller, ExchangeDep, run_write
from .routing import (
    ERRORS,
    WRITE_ERRORS,
    ScopedIdempotencyKey,
    acting_agent,
    known_agent,
    known_pool,
)

Viewer = Annotated[str | None, Query(
    max_length=64, description="an admin key: read as this agent would (an agent's key "
    "always reads as itself)")]


def pool_router() -> APIRouter:
    api = APIRouter()

    # -- reads ------------------------------------------------------------------------

    @api.get("/pools", response_model=s.PoolList, responses=ERRORS, tags=["pools"])
    def pools(caller: Caller, ex: ExchangeDep, agent: Viewer = None) -> dict[str, Any]:
        """Pools with their members, stakes and invitations: an agent's key sees its own
        pools and open ones."""
        viewer = access.reader(caller, None if agent is None else known_agent(ex, agent))
        return {"pools": [to_json(v) for v in ex.pool_list(agent=viewer)]}

    @api.get("/pools/{pool_id}", response_model=s.PoolView, responses=ERRORS, tags=["pools"])
    def pool_show(pool_id: str, caller: Caller, ex: ExchangeDep,
                  agent: Viewer = None) -> dict[str, Any]:
        """A pool's balance, members, stakes and invitations (an agent's key: one of its
        pools or an open one)."""
        viewer = access.reader(caller, None if agent is None else known_agent(ex, agent))
        return to_json(known_pool(ex, pool_id, viewer))

    # -- writes -------------------------------------------------------------------------

    @api.post("/pools", response_model=s.PoolView, responses=WRITE_ERRORS, tags=["pools"])
    async def pool_create(request: Request, body: s.PoolCreateRequest, caller: Caller,
                          ex: ExchangeDep, idempotency_key: ScopedIdempotencyKey
                          ) -> dict[str, Any]:
        """Create a pool; the creator (the key's agent) is its first member. Invite-only
        unless ``open``."""

        def run() -> dict[str, Any]:
            caller.require_agent(body.creator)
            return to_json(ex.pool_create(body.name, body.creator, body.min_contribution,
                                          open=body.open, idempotency_key=idempotency_key))

        return await run_write(request, run)

    @api.post("/pools/{pool_id}/invite", response_model=s.PoolView, responses=WRITE_ERRORS,
              tags=["pools"])
    async def pool_invite(request: Request, pool_id: str, body: s.PoolInviteRequest,
                          caller: Caller, ex: ExchangeDep,
                          idempotency_key: ScopedIdempotencyKey) -> dict[str, Any]:
        """Invite an agent to join, as the key's agent (only the creator may invite)."""

        def run() -> dict[str, Any]:
            known = known_pool(ex, pool_id).id
            return to_json(ex.pool_invite(known, known_agent(ex, body.agent),
                                          by=acting_agent(caller, ex, body.by),
                                          idempotency_key=idempotency_key))

        return await run_write(request, run)

    @api.post("/pools/{pool_id}/join", response_model=s.PoolView, responses=WRITE_ERRORS,
              tags=["pools"])
    async def pool_join(request: Request, pool_id: str, body: s.PoolMemberRequest,
                        caller: Caller, ex: ExchangeDep,
                        idempotency_key: ScopedIdempotencyKey) -> dict[str, Any]:
        """Join a pool as the key's agent: an open pool, or one it was invited to."""

        def run() -> dict[str, Any]:
            known = known_pool(ex, pool_id).id
            caller.require_agent(body.agent)
            return to_json(ex.pool_join(known, body.agent, idempotency_key=idempotency_key))

        return await run_write(request, run)

    @api.post("/pools/{pool_id}/contribute", response_model=s.PoolContribution,
              responses=WRITE_ERRORS, tags=["pools"])
    async def pool_contribute(request: Request, pool_id: str, body: s.PoolContributeRequest,
                              caller: Caller, ex: ExchangeDep,
                              idempotency_key: ScopedIdempotencyKey) -> dict[str, Any]:
        """Move tokens from the key's agent's wallet into the pool, to its stake (the
        reserve applies)."""

        def run() -> dict[str, Any]:
            known = known_pool(ex, pool_id).id
            caller.require_agent(body.agent)
            return to_json(ex.pool_contribute(known, body.agent, body.amount,
                                              idempotency_key=idempotency_key))

        return await run_write(request, run)

    @api.post("/pools/{pool_id}/spend", response_model=s.PoolSpend, responses=WRITE_ERRORS,
              tags=["pools"])
    async def pool_spend(request: Request, pool_id: str, body: s.PoolSpendRequest,
                         caller: Caller, ex: ExchangeDep,
                         idempotency_key: ScopedIdempotencyKey) -> dict[str, Any]:
        """Spend pool tokens on a model (a member's key, with a stake): drawn from the
        stakes pro rata, each draw within its member's own limits."""

        def run() -> dict[str, Any]:
            known = known_pool(ex, pool_id).id
            return to_json(ex.pool_spend(known, body.model, body.token_count, body.description,
                                         agent=acting_agent(caller, ex, body.agent),
                                         idempotency_key=idempotency_key))

        return await run_write(request, run)

    @api.post("/pools/{pool_id}/leave", response_model=s.PoolLeave, responses=WRITE_ERRORS,
              tags=["pools"])
    async def pool_leave(request: Request, pool_id: str, body: s.PoolMemberRequest,
                         caller: Caller, ex: ExchangeDep,
                         idempotency_key: ScopedIdempotencyKey) -> dict[str, Any]:
        """Leave a pool as the key's agent, taking its stake back."""

        def run() -> dict[str, Any]:
            known = known_pool(ex, pool_id).id
            caller.require_agent(body.agent)
            return to_json(ex.pool_leave(known, body.agent, idempotency_key=idempotency_key))

        return await run_write(request, run)

    @api.post("/pools/{pool_id}/dissolve", response_model=s.PoolDissolution,
              responses=WRITE_ERRORS, tags=["pools"])
    async def pool_dissolve(request: Request, pool_id: str, caller: Caller, ex: ExchangeDep,
                            idempotency_key: ScopedIdempotencyKey,
                            agent: Annotated[str | None, Query(max_length=64)] = None
                            ) -> dict[str, Any]:
        """Close a pool (its creator's key) and return every member its stake."""

        def run() -> dict[str, Any]:
            pool = known_pool(ex, pool_id)
            if not caller.admin and pool.creator != caller.agent:
                raise Forbidden(f"only {pool.id}'s creator or an admin may dissolve it")
            return to_json(ex.pool_dissolve(pool.id, agent=acting_agent(caller, ex, agent),
                                            idempotency_key=idempotency_key))

        return await run_write(request, run)

    return api
