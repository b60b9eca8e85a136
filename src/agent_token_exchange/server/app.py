"""The exchange over HTTP: FastAPI routes that translate, like the CLI does. Each route
checks the caller's key, calls one ``Exchange`` method and returns the record's JSON.

    uvicorn.run(create_app("/tmp/team"), port=8787)

Errors are JSON ``{"ok": false, "error": {"code", "message"}}`` with the CLI's codes:
402 refused by a rule, 429 refused by a rate limit, 409 idempotency conflict, 422 bad
input, 404 unknown agent or pool, 401 no valid key, 403 a key acting beyond its rights.
"""

from __future__ import annotations

import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..clock import Clock
from ..errors import (
    ExchangeError,
    InvalidInput,
    NotFound,
    status_for,
)
from ..gateway.estimate import cl100k
from ..gateway.routes import add_gateway
from ..ledger import SCHEMA_VERSION
from ..service.lifecycle import exchange_opener
from . import schemas as s
from .auth import Exchanges, FairLock
from .future_routes import future_router
from .governance_routes import governance_router
from .limits import DEFAULT_MAX_BODY_BYTES, BodyLimit
from .loan_routes import loan_router
from .pool_routes import pool_router
from .routes import api_router
from .security import ContentSecurityPolicy
from .settle_routes import SETTLE_EVERY_SECONDS, settle_router, settling_in_background
from .validation import validation_message


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
    upstream_transport: httpx.AsyncBaseTransport | None = None,
    settle_every: float | None = SETTLE_EVERY_SECONDS,
) -> FastAPI:
    """The API and dashboard over the exchange at ``home`` (its ledger at ``database``
    when given), or over ``exchanges``; a request body over ``max_body_bytes`` is refused
    with 413. While it runs it settles every ``settle_every`` seconds (None: never)."""
    if exchanges is None:
        if home is None:
            raise ValueError("create_app needs a home or exchanges")
        exchanges = Exchanges(exchange_opener(home, clock=clock, database=database,
                                              write_lock=FairLock()))
    first = exchanges.open()  # fail fast on a missing home; migrate once now
    try:
        first.open_accounts()  # agents the config added since the last start
        if any(u.token_estimator == "tiktoken" for u in first.config.upstreams.values()):
            # The gateway's tokenizer takes ~0.3 s to load: do it now, not in a request.
            threading.Thread(target=cl100k, daemon=True).start()
    finally:
        exchanges.give_back(first)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with settling_in_background(exchanges, settle_every):
            yield
        await app.state.gateway.close()
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
        message = validation_message(request.headers.get("content-type"), exc.errors())
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
        if name not in {"app.js", "charts.js", "market.js", "style.css"}:
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

    # The gateway's routes first: every LLM request goes through them, and a request is
    # matched against the routes in order (the API's ~100 come after).
    app.state.gateway = add_gateway(app, exchanges, transport=upstream_transport)
    app.include_router(api_router(), prefix="/v1")
    app.include_router(pool_router(), prefix="/v1")
    app.include_router(future_router(), prefix="/v1")
    app.include_router(loan_router(), prefix="/v1")
    app.include_router(settle_router(), prefix="/v1")
    app.include_router(governance_router(), prefix="/v1")
    return app


DOCS_ASSETS = "/docs-assets"

# How long the server keeps an idle connection open. Longer than clients keep theirs
# (httpx, under the openai and anthropic SDKs, reuses one idle up to 5 s; uvicorn's own
# default is also 5 s): a server that closes first races the client's next request on
# that connection, which then fails with "connection reset" though nothing was wrong.
KEEP_ALIVE_SECONDS = 75


