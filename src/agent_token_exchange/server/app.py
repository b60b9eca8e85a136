"""The exchange over HTTP: FastAPI routes that translate, like the CLI does. Each route
checks the caller's key, calls one ``Exchange`` method and returns the record's JSON.

    uvicorn.run(create_app("/tmp/team"), port=8787)

Errors are JSON ``{"ok": false, "error": {"code", "message"}}`` with the CLI's codes:
402 refused by a rule, 429 refused by a rate limit, 409 idempotency conflict, 422 bad
input, 404 unknown agent or pool, 401 no valid key, 403 a key acting beyond its rights.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..clock import Clock
from ..economy.records import BudgetLeft
from ..errors import (
    ExchangeError,
    InvalidInput,
    NotFound,
    status_for,
)
from ..formats.json_codec import to_json
from ..ledger import SCHEMA_VERSION
from ..service import access
from ..service.lifecycle import exchange_opener
from . import schemas as s
from .auth import Caller, ExchangeDep, Exchanges, FairLock
from .events import Cursor, event_stream, latest_cursor
from .limits import DEFAULT_MAX_BODY_BYTES, BodyLimit
from .pool_routes import pool_router
from .routing import ERRORS, WRITE_ERRORS, IdempotencyKey, ScopedIdempotencyKey, known_agent
from .security import ContentSecurityPolicy


def error_response(error: ExchangeError) -> JSONResponse:
    """An error as the API answers it: the registry's status and ``error_body``."""
    return JSONResponse(error_body(error), status_code=status_for(error))


def error_body(error: ExchangeError) -> dict[str, Any]:
    """The registry's ``to_dict`` under ``error`` (amounts as decimal strings)."""
    return {"ok": False, "error": error.to_dict()}


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
    app.include_router(pool_router(), prefix="/v1")
    return app


DOCS_ASSETS = "/docs-assets"


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
        agent = known_agent(ex, agent)
        access.require_own(caller, agent)
        return to_json(ex.balance(agent))

    @api.get("/agents/{agent}/history", response_model=s.History, responses=ERRORS,
             tags=["agents"])
    def history(agent: str, caller: Caller, ex: ExchangeDep,
                limit: Annotated[int, Query(ge=1, le=100_000)] = 20) -> dict[str, Any]:
        """An agent's transactions, newest first: its own key or an admin's."""
        agent = known_agent(ex, agent)
        access.require_own(caller, agent)
        return {"agent": agent, "transactions": [to_json(e) for e in ex.history(agent, limit)]}

    @api.get("/agents/{agent}/limits", response_model=s.Limits, responses=ERRORS,
             tags=["agents"])
    def limits(agent: str, caller: Caller, ex: ExchangeDep) -> dict[str, Any]:
        """Rate-limit position: hourly and daily use, burst, reserve, headroom, refusals
        (its own key or an admin's)."""
        agent = known_agent(ex, agent)
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
            agent = known_agent(ex, agent)
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
        mine = access.reader(caller, None if agent is None else known_agent(ex, agent))
        rows = (ex.recent_transfers(limit, agent=mine) if after is None
                else ex.transfers_since(after, limit, agent=mine))
        return {"transfers": [to_json(t) for t in rows]}

    @api.get("/rewards/preview", response_model=s.RewardPreview, responses=ERRORS,
             tags=["earning"])
    def reward_preview(
        caller: Caller, ex: ExchangeDep,
        agent: Annotated[str, Query(min_length=1, max_length=64)],
        project: Annotated[str, Query(min_length=1, max_length=500)],
        message: Annotated[str, Query(min_length=1, max_length=10_000)],
    ) -> dict[str, Any]:
        """What a commit would earn now, without paying it."""
        return to_json(ex.preview_commit(known_agent(ex, agent), project, message))

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
        agent = known_agent(ex, agent)
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

    @api.post("/doctor", response_model=s.DoctorReport, responses=WRITE_ERRORS,
              tags=["admin"])
    def doctor_fix(body: s.DoctorRequest, caller: Caller, ex: ExchangeDep) -> dict[str, Any]:
        """Check every invariant; with ``fix`` rebuild derived figures (admin)."""
        caller.require_admin()
        return to_json(ex.doctor(fix=body.fix))

    return api

