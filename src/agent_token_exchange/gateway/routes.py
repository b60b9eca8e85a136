"""The gateway's routes on the ``serve`` app: OpenAI's ``POST /v1/chat/completions``,
Anthropic's ``POST /v1/messages`` (and its free ``count_tokens``), and ``GET /v1/models``
(the models this key may use, in a shape both SDKs read)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
from anyio import to_thread
from fastapi import FastAPI, Request
from starlette.responses import JSONResponse, Response

from ..economy.config import Config
from .dialects import DIALECTS
from .proxy import Gateway, GatewayError, api_key

if TYPE_CHECKING:  # the server hosts the gateway; only its type is needed here
    from ..server.auth import Exchanges


# Paths the gateway answers, and whose error format they speak (server/limits.py asks).
GATEWAY_PATHS = {"/v1/chat/completions": "openai", "/v1/messages": "anthropic",
                 "/v1/messages/count_tokens": "anthropic"}


# The provider's own shapes: documented as JSON objects, with every status a gateway
# answer can have (the error bodies are the provider's error format).
_BODY = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": {"type": "object", "additionalProperties": True}}}}}
_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"description": "The provider's answer (JSON, or server-sent events when streamed)",
          "content": {"application/json": {"schema": {"type": "object"}},
                      "text/event-stream": {"schema": {"type": "string"}}}},
    **{status: {"description": text, "content": {"application/json": {
        "schema": {"type": "object"}}}} for status, text in {
        400: "Bad request (the provider's format)", 401: "No valid exchange key",
        402: "Refused: funds or the reserve", 403: "An admin key, or a pool not the caller's",
        404: "A model the gateway does not serve", 413: "Body too large",
        429: "Refused: burst, hourly or daily limit (Retry-After)",
        500: "The provider's own error, passed on", 502: "The provider could not be reached",
        503: "The provider's own error, passed on"}.items()}}


def add_gateway(app: FastAPI, exchanges: Exchanges, *,
                transport: httpx.AsyncBaseTransport | None = None) -> Gateway:
    """Serve the gateway's routes on ``app``; returns the gateway (close it at shutdown)."""
    gateway = Gateway(exchanges, transport=transport)
    openai, anthropic = DIALECTS["openai"], DIALECTS["anthropic"]

    @app.post("/v1/chat/completions", tags=["gateway"], response_model=None,
              responses=_ANSWERS, openapi_extra=_BODY)
    async def chat_completions(request: Request) -> Response:
        """OpenAI's chat completions (plain or `stream: true`), metered: the worst case is
        reserved under the key's agent's limits, the provider's usage charged. Send the
        exchange key as the API key; `model` is an exchange model or `task:<type>`."""
        return await gateway.handle(request, openai)

    @app.post("/v1/messages", tags=["gateway"], response_model=None,
              responses=_ANSWERS, openapi_extra=_BODY)
    async def messages(request: Request) -> Response:
        """Anthropic's messages (plain or streamed), metered as chat completions are.
        `X-Exchange-Pool: pool-N` makes a pool pay (the key's agent must be a member)."""
        return await gateway.handle(request, anthropic)

    @app.post("/v1/messages/count_tokens", tags=["gateway"], response_model=None,
              responses=_ANSWERS, openapi_extra=_BODY)
    async def count_tokens(request: Request) -> Response:
        """Anthropic's token count, passed to the provider: it costs nothing."""
        return await gateway.count_tokens(request)

    @app.get("/v1/models", tags=["gateway"], response_model=None,
             responses={k: v for k, v in _ANSWERS.items() if k in (200, 401, 403)})
    async def models(request: Request) -> Response:
        """The models this key may use through the gateway (OpenAI's and Anthropic's list
        shapes in one: each SDK reads its own fields)."""
        dialect = anthropic if "anthropic-version" in request.headers else openai
        try:
            _, config = await to_thread.run_sync(gateway.authenticate,
                                                 api_key(request.headers))
        except GatewayError as exc:
            return gateway.error(dialect, exc)
        return JSONResponse(model_list(config))

    return gateway


def model_list(config: Config) -> dict[str, Any]:
    served = [(name, spec) for name, spec in sorted(config.models.items())
              if spec.upstream is not None]
    data = [{"id": name, "object": "model", "type": "model", "created": 0,
             "created_at": "1970-01-01T00:00:00Z", "owned_by": spec.upstream,
             "display_name": name, "upstream_model": spec.upstream_model or name}
            for name, spec in served]
    return {"object": "list", "data": data, "has_more": False,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None}


__all__ = ["GATEWAY_PATHS", "add_gateway", "model_list"]
