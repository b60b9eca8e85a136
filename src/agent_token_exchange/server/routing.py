"""What the API's routes share: the caller-scoped idempotency key, the documented error
responses, and the checks that turn a path's names into the exchange's (404 for an unknown
agent or pool, the agent a request acts as)."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import Depends, Header

from ..economy.records import PoolView
from ..economy.validation import IDEMPOTENCY_KEY
from ..errors import (
    InvalidInput,
    NotFound,
)
from ..service.api_keys import Principal
from ..service.exchange import Exchange
from . import schemas as s
from .auth import Caller

IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", max_length=200,
    description="Apply this write at most once: a replay returns the first result. "
    "Each caller (an agent, or the admins) has keys of its own.")]


async def scoped_idempotency_key(caller: Caller, key: IdempotencyKey = None) -> str | None:
    """The client's key, prefixed with who sent it: the ledger's keys are one namespace,
    so without this one agent's ``job-1`` would block (and reveal) another's. Async
    because it does no I/O: a sync dependency would cost each write a worker thread."""
    if key is None:
        return None
    if not IDEMPOTENCY_KEY.match(key):
        raise InvalidInput(
            "idempotency key must be 1-200 characters of letters, digits and ._:@/+=-")
    # Agent names cannot contain ':' or '/', so no agent's scope is another's or admin's.
    scope = "admin" if caller.admin else f"agent:{caller.agent}"
    scoped = f"{scope}/{key}"
    if len(scoped) > 200:  # the ledger's limit: a long key is kept as its hash instead
        scoped = f"{scope}/sha256:{hashlib.sha256(key.encode()).hexdigest()}"
    return scoped


ScopedIdempotencyKey = Annotated[str | None, Depends(scoped_idempotency_key)]

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": s.ErrorBody, "description": text}
    for status, text in {
        401: "No key, or an unknown or revoked key",
        403: "The key may not do this",
        404: "Unknown agent or pool",
        422: "Bad input",
    }.items()
}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    402: {"model": s.ErrorBody, "description": "Refused by a rule of the economy"},
    409: {"model": s.ErrorBody, "description": "Idempotency key reused for another request"},
    429: {"model": s.ErrorBody, "description": "Refused by a rate limit"},
}


def known_agent(ex: Exchange, agent: str) -> str:
    if agent not in ex.config.agents:
        raise NotFound(f"unknown agent {agent[:64]!r} (known: {', '.join(ex.config.agents)})")
    return agent


def acting_agent(caller: Principal, ex: Exchange, named: str | None) -> str | None:
    """The agent a request acts as: an agent's key acts as itself (naming another is
    403); an admin key acts as the agent it names, or as nobody in particular."""
    if named is not None:
        named = known_agent(ex, named)
    if caller.admin:
        return named
    caller.require_agent(named or caller.agent or "")
    return caller.agent


def known_pool(ex: Exchange, pool_id: str, viewer: str | None = None) -> PoolView:
    """The pool (read once per request) as ``viewer`` may see it (service/access.py), or
    404 (unknown) or 403 (not one of the viewer's pools)."""
    try:
        return ex.pool_show(pool_id, agent=viewer)
    except InvalidInput as exc:
        raise NotFound(exc.message) from None
