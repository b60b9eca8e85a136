"""The exchange over HTTP: FastAPI routes that translate, like the CLI does. Each route
checks the caller's key, calls one ``Exchange`` method and returns the record's JSON.

    uvicorn.run(create_app("/tmp/team"), port=8787)

Errors are JSON ``{"ok": false, "error": {"code", "message"}}`` with the CLI's codes:
402 refused by a rule, 429 refused by a rate limit, 409 idempotency conflict, 422 bad
input, 404 unknown agent or pool, 401 no valid key, 403 a key acting beyond its rights.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..clock import Clock
from ..economy.records import BudgetLeft, PoolView
from ..economy.validation import IDEMPOTENCY_KEY
from ..errors import (
    ExchangeError,
    Forbidden,
    InvalidInput,
    NotFound,
    status_for,
)
from ..formats.json_codec import to_json
from ..ledger import SCHEMA_VERSION
from ..money import format_amount
from ..service import access
from ..service.api_keys import Principal
from ..service.exchange import Exchange
from ..service.lifecycle import exchange_opener
from . import schemas as s
from .auth import Caller, ExchangeDep, Exchanges, FairLock
from .events import Cursor, event_stream, latest_cursor
from .limits import DEFAULT_MAX_BODY_BYTES, BodyLimit
from .security import ContentSecurityPolicy

IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", max_length=200,
    description="Apply this write at most once: a replay returns the first result. "
    "Each caller (an agent, or the admins) has keys of its own.")]


def scoped_idempotency_key(caller: Caller, key: IdempotencyKey = None) -> str | None:
    """The client's key, prefixed with who sent it: the ledger's keys are one namespace,
    so without this one agent's ``job-1`` would block (and reveal) another's."""
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


def error_response(error: ExchangeError) -> JSONResponse:
    """An error as the API answers it: the registry's status and ``error_body``."""
    return JSONResponse(error_body(error), status_code=status_for(error))


def error_body(error: ExchangeError) -> dict[str, Any]:
    """The registry's ``to_dict`` under ``error``, amounts as decimal strings."""
    detail = {name: format_amount(value) if name in error.MONEY else value
              for name, value in error.to_dict().items()}
    return {"ok": False, "error": detail}


def create_app(
    home: str | os.PathLike[str] | None = None, *, clock: Clock | None = None,
    database: str | None = None, exchanges: Exchanges | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> FastAPI:
    """The API and dashboard over the exchange at ``home`` (its ledger at ``database``
    when given), or over ``exchanges``; a request body over ``max_body_bytes`` is refused
    with 413."""
    if exchanges is None:
        if home is None:
            raise ValueError("create_app needs a home or exchanges")
        exchanges = Exchanges(exchange_opener(home, clock=clock, database=database,
                                              write_lock=FairLock()))
    first = exchanges.open()  # fail fast on a missing home; migrate once now
    try:
        first.open_accounts()  # agents the config added since the last start
    finally:
        exchanges.give_back(first)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        exchanges.close()

    app = FastAPI(
        title="Agent Token Exchange",
        version="1",
        description="Agents earn tokens for real work and spend them on LLM inference under "
        "hourly, daily, burst and reserve limits. Amounts are decimal strings. Send "
        "`Authorization: Bearer <key>` (`token-exchange keys create`).",
        lifespan=lifespan,
        docs_url=None,  # FastAPI's own /docs loads Swagger UI from a CDN: ours is local
        redoc_url=None,
    )
    app.state.exchanges = exchanges
    app.add_middleware(BodyLimit, exchanges=exchanges, max_body_bytes=max_body_bytes)
    app.add_middleware(ContentSecurityPolicy)  # added last: outermost, so 401/413 carry it

    @app.exception_handler(ExchangeError)
    async def exchange_error(request: Request, exc: ExchangeError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        message = f"{where}: {first.get('msg')}" if where else str(first.get("msg"))
        return error_response(InvalidInput(message))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # a body that is not JSON at all: bad input, like the rest
            return error_response(InvalidInput(str(exc.detail)))
        if exc.status_code == 404:
            return error_response(NotFound(str(exc.detail)))
        return JSONResponse(
            {"ok": False, "error": {"code": "http_error", "message": str(exc.detail)}},
            status_code=exc.status_code)

    @app.get("/health", response_model=s.Health, tags=["service"])
    def health() -> dict[str, Any]:
        """Liveness: answers without touching the ledger."""
        return {"status": "ok", "schema_version": SCHEMA_VERSION}

    static = resources.files(__package__ or "agent_token_exchange.server").joinpath("static")

    @app.get("/", include_in_schema=False)
    def dashboard() -> FileResponse:
        return FileResponse(str(static.joinpath("index.html")))

    @app.get("/static/{name}", include_in_schema=False)
    def static_file(name: str) -> FileResponse:
        if name not in {"app.js", "charts.js", "style.css"}:
            raise NotFound(f"no static file {name!r}")
        return FileResponse(str(static.joinpath(name)))

    # Swagger UI's files as the fastapi-offline package ships them (swagger-ui-bundle's
    # Swagger UI 4 cannot read OpenAPI 3.1): nothing on /docs comes from elsewhere.
    app.mount(DOCS_ASSETS, StaticFiles(
        directory=str(resources.files("fastapi_offline").joinpath("static"))),
        name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json", title=f"{app.title} - API docs",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png",
            swagger_ui_parameters={"validatorUrl": None})  # no badge from swagger.io

    app.include_router(_api_router(), prefix="/v1")
    return app


DOCS_ASSETS = "/docs-assets"


def _agent(ex: Exchange, agent: str) -> str:
    if agent not in ex.config.agents:
        raise NotFound(f"unknown agent {agent[:64]!r} (known: {', '.join(ex.config.agents)})")
    return agent


def _acting(caller: Principal, ex: Exchange, named: str | None) -> str | None:
    """The agent a request acts as: an agent's key acts as itself (naming another is
    403); an admin key acts as the agent it names, or as nobody in particular."""
    if named is not None:
        named = _agent(ex, named)
    if caller.admin:
        return named
    caller.require_agent(named or caller.agent or "")
    return caller.agent


def _pool(ex: Exchange, pool_id: str) -> PoolView:
    """The pool (read once per request), or 404."""
    try:
        return ex.pool_show(pool_id)
    except InvalidInput as exc:
        raise NotFound(exc.message) from None


def _api_router() -> APIRouter:
    api = APIRouter()

    # -- reads ------------------------------------------------------------------------

    @api.get("/whoami", response_model=s.WhoAmI, responses=ERRORS, tags=["auth"])
    def whoami(caller: Caller) -> dict[str, Any]:
        """The key's holder: an agent, or an admin."""
        return {"key_id": caller.key_id, "agent": caller.agent, "admin": caller.admin}

    @api.get("/agents", response_model=s.AgentList, responses=ERRORS, tags=["agents"])
    def agents(caller: Caller, ex: ExchangeDep) -> dict[str, Any]:
        """Every agent: tokens, earned, spent and rate limits used (`token-exchange status`)."""
        return {"agents": [to_json(row) for row in ex.status()]}

    @api.get("/agents/{agent}", response_model=s.Wallet, responses=ERRORS, tags=["agents"])
    def balance(agent: str, caller: Caller, ex: ExchangeDep) -> dict[str, Any]:
        """An agent's wallet (`token-exchange balance`): its own key or an admin's."""
        agent = _agent(ex, agent)
        access.require_own(caller, agent)
        return to_json(ex.balance(agent))

    @api.get("/agents/{agent}/history", response_model=s.History, responses=ERRORS,
             tags=["agents"])
    def history(agent: str, caller: Caller, ex: ExchangeDep,
                limit: Annotated[int, Query(ge=1, le=100_000)] = 20) -> dict[str, Any]:
        """An agent's transactions, newest first: its own key or an admin's."""
        agent = _agent(ex, agent)
        access.require_own(caller, agent)
        return {"agent": agent, "transactions": [to_json(e) for e in ex.history(agent, limit)]}

    @api.get("/agents/{agent}/limits", response_model=s.Limits, responses=ERRORS,
             tags=["agents"])
    def limits(agent: str, caller: Caller, ex: ExchangeDep) -> dict[str, Any]:
        """Rate-limit position: hourly and daily use, burst, reserve, headroom, refusals
        (its own key or an admin's)."""
        agent = _agent(ex, agent)
        access.require_own(caller, agent)
        return to_json(ex.limits(agent))

    @api.get("/refusals", response_model=s.RefusalList, responses=ERRORS, tags=["agents"])
    def refusals(caller: Caller, ex: ExchangeDep,
                 agent: Annotated[str | None, Query(max_length=64)] = None,
                 limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
                 after: Annotated[int | None, Query(ge=0, le=2**62)] = None) -> dict[str, Any]:
        """Recent refusals, newest first; with ``after``, those past that seq, oldest
        first. An agent's key sees its own."""
        if agent is not None:
            agent = _agent(ex, agent)
        agent = access.reader(caller, agent)  # filtered in the query, then paged
        if after is not None:
            rows = ex.refusals_since(after, limit, agent=agent)
        else:
            rows = ex.refusals(agent, limit)
        return {"refusals": [to_json(r) for r in rows]}

    @api.get("/transfers", response_model=s.TransferList, responses=ERRORS, tags=["events"])
    def transfers(caller: Caller, ex: ExchangeDep,
                  after: Annotated[int | None, Query(ge=0, le=2**62)] = None,
                  limit: Annotated[int, Query(ge=1, le=5000)] = 200,
                  agent: Annotated[str | None, Query(max_length=64)] = None) -> dict[str, Any]:
        """Ledger transfers oldest first: after a seq, or the newest ``limit``; with
        ``agent``, those touching its wallet. An agent's key sees its own."""
        mine = access.reader(caller, None if agent is None else _agent(ex, agent))
        rows = (ex.recent_transfers(limit, agent=mine) if after is None
                else ex.transfers_since(after, limit, agent=mine))
        return {"transfers": [to_json(t) for t in rows]}

    @api.get("/pools", response_model=s.PoolList, responses=ERRORS, tags=["pools"])
    def pools(caller: Caller, ex: ExchangeDep,
              agent: Annotated[str | None, Query(max_length=64)] = None) -> dict[str, Any]:
        """Pools with their members and stakes: an agent's key sees its own pools (member,
        former member or invited) and open ones; with ``agent``, an admin sees those."""
        viewer = access.reader(caller, None if agent is None else _agent(ex, agent))
        return {"pools": [to_json(v) for v in ex.pool_list(agent=viewer)]}

    @api.get("/pools/{pool_id}", response_model=s.PoolView, responses=ERRORS, tags=["pools"])
    def pool_show(pool_id: str, caller: Caller, ex: ExchangeDep,
                  agent: Annotated[str | None, Query(max_length=64)] = None) -> dict[str, Any]:
        """A pool's balance, members, stakes and invitations (an agent's key: one of its
        pools or an open one)."""
        viewer = access.reader(caller, None if agent is None else _agent(ex, agent))
        try:
            return to_json(ex.pool_show(pool_id, agent=viewer))
        except NotFound:
            raise
        except InvalidInput as exc:
            raise NotFound(exc.message) from None

    @api.get("/rewards/preview", response_model=s.RewardPreview, responses=ERRORS,
             tags=["earning"])
    def reward_preview(
        caller: Caller, ex: ExchangeDep,
        agent: Annotated[str, Query(min_length=1, max_length=64)],
        project: Annotated[str, Query(min_length=1, max_length=500)],
        message: Annotated[str, Query(min_length=1, max_length=10_000)],
    ) -> dict[str, Any]:
        """What a commit would earn now, without paying it."""
        return to_json(ex.preview_commit(_agent(ex, agent), project, message))

    @api.get("/doctor", response_model=s.DoctorReport, responses=ERRORS, tags=["admin"])
    def doctor(caller: Caller, ex: ExchangeDep) -> dict[str, Any]:
        """Check every ledger invariant (admin)."""
        caller.require_admin()
        return to_json(ex.doctor(fix=False))

    @api.get("/config", response_model=s.ConfigView, responses=ERRORS, tags=["admin"])
    def config(caller: Caller, ex: ExchangeDep) -> dict[str, Any]:
        """The economy's rules the server runs on (admin): config.toml as JSON."""
        caller.require_admin()
        return ex.config.model_dump(mode="json")

    @api.get("/audit", response_model=s.AuditReport, responses=ERRORS, tags=["admin"])
    def audit(caller: Caller, ex: ExchangeDep,
              expect_head: Annotated[str | None, Query(max_length=64)] = None
              ) -> dict[str, Any]:
        """Recompute the transfer log's hash chain (admin)."""
        caller.require_admin()
        return to_json(ex.audit(expect_head))

    @api.get("/commits/{sha}/paid", response_model=s.CommitPaid, responses=ERRORS,
             tags=["earning"])
    def commit_paid(
        sha: str, caller: Caller, ex: ExchangeDep,
        patch_id: Annotated[str | None, Query(max_length=64)] = None,
        author_email: Annotated[str | None, Query(max_length=320)] = None,
        replaces: Annotated[str | None, Query(max_length=64)] = None,
    ) -> dict[str, Any]:
        """Whether a commit's work was already settled (by SHA, amend or patch id)."""
        paid = ex.commit_paid(sha, patch_id=patch_id, author_email=author_email,
                              replaces=replaces)
        return {"sha": sha, "paid": paid}

    @api.get("/issues/{issue_id}/settled", response_model=s.IssueSettled, responses=ERRORS,
             tags=["earning"])
    def issue_settled(issue_id: str, caller: Caller, ex: ExchangeDep) -> dict[str, Any]:
        """Whether a closed issue was already paid (or settled at zero)."""
        return {"issue_id": issue_id, "settled": ex.issue_settled(issue_id)}

    @api.get("/contracts/{contract}/budget", response_model=s.BudgetLeft, responses=ERRORS,
             tags=["earning"])
    def budget_left(contract: str, caller: Caller, ex: ExchangeDep) -> dict[str, Any]:
        """What is left of a contract's budget."""
        if contract not in {c.name for c in ex.config.contracts}:
            raise NotFound(f"unknown contract {contract[:64]!r}")
        return to_json(BudgetLeft(contract, ex.budget_left(contract)))

    @api.get("/events", responses={**ERRORS, 200: {
        "content": {"text/event-stream": {}},
        "description": "Server-sent events: `transfer` and `refusal`, data = their JSON"}},
        response_class=StreamingResponse, tags=["events"])
    def events(
        request: Request, caller: Caller, ex: ExchangeDep,
        after: Annotated[str | None, Query(
            max_length=41, description="Resume after this event id (transfer.refusal)")] = None,
        max_events: Annotated[int | None, Query(ge=1, le=100_000)] = None,
        last_event_id: Annotated[str | None, Header(alias="Last-Event-ID",
                                                    max_length=41)] = None,
    ) -> StreamingResponse:
        """Every transfer and refusal as it happens (an agent's key: its own)."""
        start = after or last_event_id
        cursor = Cursor.parse(start) if start else latest_cursor(ex)
        stream = event_stream(request.app.state.exchanges, caller, cursor,
                              max_events=max_events)
        return StreamingResponse(stream, media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache",
                                          "X-Accel-Buffering": "no"})

    # -- writes -------------------------------------------------------------------------

    @api.post("/agents/{agent}/llm", response_model=s.Charge, responses=WRITE_ERRORS,
              tags=["spending"])
    def llm(agent: str, body: s.LlmRequest, caller: Caller, ex: ExchangeDep,
            idempotency_key: ScopedIdempotencyKey) -> dict[str, Any]:
        """Spend on one LLM request under the burst, reserve, hourly and daily limits."""
        agent = _agent(ex, agent)
        caller.require_agent(agent)
        return to_json(ex.llm(agent, body.task_type, body.token_count, body.model,
                      idempotency_key=idempotency_key))

    @api.post("/commits", response_model=s.Payment, responses=WRITE_ERRORS, tags=["earning"])
    def commit(body: s.CommitRequest, caller: Caller, ex: ExchangeDep,
               idempotency_key: ScopedIdempotencyKey) -> dict[str, Any]:
        """Pay a git commit (admin): base rate × project multiplier × message bonus."""
        caller.require_admin()
        return to_json(ex.commit(body.author_email, body.project, body.message, body.sha,
                         idempotency_key=idempotency_key, patch_id=body.patch_id,
                         replaces=body.replaces))

    @api.post("/awards", response_model=s.Payment, responses=WRITE_ERRORS, tags=["earning"])
    def award(body: s.AwardRequest, caller: Caller, ex: ExchangeDep,
              idempotency_key: ScopedIdempotencyKey) -> dict[str, Any]:
        """Award tokens to an agent directly (admin)."""
        caller.require_admin()
        return to_json(ex.award(body.agent, body.amount, body.source, body.description,
                        idempotency_key=idempotency_key))

    @api.post("/issues", response_model=s.Payment, responses=WRITE_ERRORS, tags=["earning"])
    def pay_issue(body: s.IssueRequest, caller: Caller, ex: ExchangeDep,
                  idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
        """Pay for a closed issue (admin). The issue id is the idempotency key: an issue
        pays once however often it is sent, so an Idempotency-Key header adds nothing."""
        caller.require_admin()
        return to_json(ex.pay_issue(
            body.issue_id, body.agent, priority=body.priority, issue_type=body.issue_type,
            labels=tuple(body.labels), close_reason=body.close_reason,
            tombstoned=body.tombstoned, title=body.title,
        ))

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
        return to_json(ex.pool_invite(pool_id, _agent(ex, body.agent),
                                      by=_acting(caller, ex, body.by),
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
                                     agent=_acting(caller, ex, body.agent),
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
        return to_json(ex.pool_dissolve(pool_id, agent=_acting(caller, ex, agent),
                                        idempotency_key=idempotency_key))

    @api.post("/doctor", response_model=s.DoctorReport, responses=WRITE_ERRORS,
              tags=["admin"])
    def doctor_fix(body: s.DoctorRequest, caller: Caller, ex: ExchangeDep) -> dict[str, Any]:
        """Check every invariant; with ``fix`` rebuild derived figures (admin)."""
        caller.require_admin()
        return to_json(ex.doctor(fix=body.fix))

    return api

