"""Request bodies: the caller's key is checked before a byte of the body is read, and a
body over the limit is refused with 413, from its ``Content-Length`` or, when it streams
(chunked), as soon as it passes the limit.

Without this a route reads its whole body before its key dependency runs, so anyone who
can reach the port can make the server hold hundreds of megabytes before it answers 401.
The middleware reads an accepted body itself (it is at most the limit) and hands it on.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import ExchangeError
from ..service.api_keys import Unauthenticated
from .auth import Exchanges

DEFAULT_MAX_BODY_BYTES = 1024 * 1024


class BodyLimit:
    """Pure ASGI middleware: authenticate any request that carries a body, then accept at
    most ``max_body_bytes`` of it."""

    def __init__(self, app: ASGIApp, *, exchanges: Exchanges,
                 max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.exchanges = exchanges
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        length_text = headers.get("content-length")
        chunked = "transfer-encoding" in headers
        if length_text is None and not chunked:  # no body (GET, or an empty POST)
            await self.app(scope, receive, send)
            return
        try:
            declared = int(length_text) if length_text is not None else None
        except ValueError:
            declared = None
        if declared == 0 and not chunked:
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith("/v1/"):
            problem = await self._authenticate(headers.get("authorization"))
            if problem is not None:
                status = 401 if isinstance(problem, Unauthenticated) else 503
                await _error(send, status, problem.code, problem.message)
                return
        if declared is not None and declared > self.max_body_bytes:
            await _too_large(send, self.max_body_bytes)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            body += message.get("body", b"")
            if len(body) > self.max_body_bytes:
                await _too_large(send, self.max_body_bytes)
                return
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(bytes(body), receive), send)

    async def _authenticate(self, authorization: str | None) -> ExchangeError | None:
        try:
            await self.exchanges.authenticate(authorization)  # cached for a second
        except ExchangeError as exc:
            return exc
        return None


def _headers(scope: Scope) -> dict[str, str]:
    return {name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in scope.get("headers", [])}


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body as one message, then whatever the client sends next (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _too_large(send: Send, limit: int) -> None:
    await _error(send, 413, "too_large",
                 f"the request body is larger than the server accepts ({limit} bytes)")


async def _error(send: Send, status: int, code: str, message: str) -> None:
    payload: dict[str, Any] = {"ok": False, "error": {"code": code, "message": message}}
    body = json.dumps(payload).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
