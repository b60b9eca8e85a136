"""The pool routes: reads (an agent's key sees its own pools and open ones) and writes
(a key acts as its own agent; the service's pool rules decide the rest)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from ..economy.records import PoolView
from ..errors import Forbidden, InvalidInput, NotFound
from ..formats.json_codec import to_json
from ..service import access
from ..service.exchange import Exchange
from . import schemas as s
from .auth import Caller, ExchangeDep
from .routing import ERRORS, WRITE_ERRORS, ScopedIdempotencyKey, acting_agent, known_agent


def _pool(ex: Exchange, pool_id: str, viewer: str | None = None) -> PoolView:
    """The pool (read once per request) as ``viewer`` may see it, or 404 (unknown) or 403
    (not one of the viewer's pools)."""
    try:
        return ex.pool_show(pool_id, agent=viewer)
    except InvalidInput as exc:
        raise NotFound(exc.message) from None


def pool_router() -> APIRouter:
    api = APIRouter()

    @api.get("/pools", response_model=s.PoolList, responses=ERRORS, tags=["pools"])
    def pools(caller: Caller, ex: ExchangeDep,
              agent: Annotated[str | None, Query(max_length=64)] = None) -> dict[str, Any]:
        """Pools with their members and stakes: an agent's key sees its own pools (member,
        former member or invited) and open ones; with ``agent``, an admin sees those."""
        viewer = access.reader(caller, None if agent is None else known_agent(ex, agent))
        return {"pools": [to_json(v) for v in ex.pool_list(agent=viewer)]}

    @api.get("/pools/{pool_id}", response_model=s.PoolView, responses=ERRORS, tags=["pools"])
    def pool_show(pool_id: str, caller: Caller, ex: ExchangeDep,
                  agent: Annotated[str | None, Query(max_length=64)] = None) -> dict[str, Any]:
        """A pool's balance, members, stakes and invitations (an agent's key: one of its
        pools or an open one)."""
        viewer = access.reader(caller, None if agent is None else known_agent(ex, agent))
        return to_json(_pool(ex, pool_id, viewer))

    @api.post("/pools", response_model=s.PoolView, responses=WRITE_ERRORS, tags=["pools"])
    def pool_create(body: s.PoolCreateRequest, caller: Caller, ex: ExchangeDep,
                    idempotency_key: ScopedIdempotencyKey) -> dict[str, Any]:
        """Create a pool; the creator (the key's agent) is its first member. Invite-only
        unless ``open``."""
        caller.require_agent(body.creator)
        return to_json(ex.pool_create(body.name, body.creator, body.min_contribution,
                                      open=body.open, idempotency_key=idempotency_key))

    @api.post("/pools/{pool_id}/invite", response_model=s.PoolView, responses=WRITE_ERRORS,
              tags=["pools"])
    def pool_invite(pool_id: str, body: s.PoolInviteRequest, caller: Caller,
                    ex: ExchangeDep, idempotency_key: ScopedIdempotencyKey) -> dict[str, Any]:
        """Invite an agent to join, as the key's agent (only the creator may invite)."""
        pool_id = _pool(ex, pool_id).id
        return to_json(ex.pool_invite(pool_id, known_agent(ex, body.agent),
                                      by=acting_agent(caller, ex, body.by),
                                      idempotency_key=idempotency_key))

    @api.post("/pools/{pool_id}/join", response_model=s.PoolView, responses=WRITE_ERRORS,
              tags=["pools"])
    def pool_join(pool_id: str, body: s.PoolMemberRequest, caller: Caller, ex: ExchangeDep,
                  idempotency_key: ScopedIdempotencyKey) -> dict[str, Any]:
        """Join a pool as the key's agent: an open pool, or one it was invited to."""
        pool_id = _pool(ex, pool_id).id
        caller.require_agent(body.agent)
        return to_json(ex.pool_join(pool_id, body.agent, idempotency_key=idempotency_key))

    @api.post("/pools/{pool_id}/leave", response_model=s.PoolLeave, responses=WRITE_ERRORS,
              tags=["pools"])
    def pool_leave(pool_id: str, body: s.PoolMemberRequest, caller: Caller, ex: ExchangeDep,
                   idempotency_key: ScopedIdempotencyKey) -> dict[str, Any]:
        """Leave a pool as the key's agent, taking its stake back."""
        pool_id = _pool(ex, pool_id).id
        caller.require_agent(body.agent)
        return to_json(ex.pool_leave(pool_id, body.agent, idempotency_key=idempotency_key))

    @api.post("/pools/{pool_id}/contribute", response_model=s.PoolContribution,
              responses=WRITE_ERRORS, tags=["pools"])
    def pool_contribute(pool_id: str, body: s.PoolContributeRequest, caller: Caller,
                        ex: ExchangeDep, idempotency_key: ScopedIdempotencyKey
                        ) -> dict[str, Any]:
        """Move tokens from the key's agent's wallet into the pool (reserve applies)."""
        pool_id = _pool(ex, pool_id).id
        caller.require_agent(body.agent)
        return to_json(ex.pool_contribute(pool_id, body.agent, body.amount,
                                  idempotency_key=idempotency_key))

    @api.post("/pools/{pool_id}/spend", response_model=s.PoolSpend, responses=WRITE_ERRORS,
              tags=["pools"])
    def pool_spend(pool_id: str, body: s.PoolSpendRequest, caller: Caller, ex: ExchangeDep,
                   idempotency_key: ScopedIdempotencyKey) -> dict[str, Any]:
        """Spend pool tokens on a model (a member's key, with a stake): drawn from the
        stakes pro rata, each draw within its member's own limits."""
        pool_id = _pool(ex, pool_id).id
        return to_json(ex.pool_spend(pool_id, body.model, body.token_count, body.description,
                                     agent=acting_agent(caller, ex, body.agent),
                                     idempotency_key=idempotency_key))

    @api.post("/pools/{pool_id}/dissolve", response_model=s.PoolDissolution,
              responses=WRITE_ERRORS, tags=["pools"])
    def pool_dissolve(pool_id: str, caller: Caller, ex: ExchangeDep,
                      idempotency_key: ScopedIdempotencyKey,
                      agent: Annotated[str | None, Query(max_length=64)] = None
                      ) -> dict[str, Any]:
        """Close a pool (its creator's key) and return every member its stake."""
        pool = _pool(ex, pool_id)
        pool_id = pool.id
        if not caller.admin and pool.creator != caller.agent:
            raise Forbidden(f"only {pool_id}'s creator or an admin may dissolve it")
        return to_json(ex.pool_dissolve(pool_id, agent=acting_agent(caller, ex, agent),
                                        idempotency_key=idempotency_key))

    return api
