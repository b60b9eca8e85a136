"""The metering proxy: authorize, forward, capture.

For each request: the key (``Authorization: Bearer`` or ``x-api-key``) names the agent;
the model is an exchange model, ``task:<type>`` or an ``upstream_model``; the prompt is
estimated and the request's worst case reserved (service/metering.py) under the agent's
limits, or a pool's (``X-Exchange-Pool``). Only then does the provider see the request.
Its reported usage settles the charge; a provider failure releases the hold; a stream
cut short is charged for what was generated, at most the reservation. Refusals come back
in the provider's own error format, so each SDK raises its usual exception.

The ledger is touched from worker threads on an exchange borrowed for that step only:
no connection is held while the provider thinks.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio
import httpx
from anyio import to_thread
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from ..economy import metering
from ..economy.config import Config, Model, Upstream
from ..economy.records import Reservation
from ..errors import (
    ExchangeError,
    InvalidInput,
    NotAllowed,
    NotFound,
    Refused,
    Unauthenticated,
    status_for,
)
from ..server.inline_writes import run_short_write
from ..service.api_keys import Principal
from ..service.metering import Usage
from .dialects import DIALECTS, Dialect, StreamMeter
from .estimate import effective_estimator, estimate_prompt, estimate_text

if TYPE_CHECKING:  # the server hosts the gateway; only its type is needed here
    from ..server.auth import Exchanges


POOL_HEADER = "x-exchange-pool"
CONNECT_TIMEOUT = 10.0
KEY_HINT = ("an exchange API key is needed (`token-exchange keys create --agent NAME`), as "
            "Authorization: Bearer atx_… or x-api-key: atx_…")


class GatewayError(Exception):
    """An answer in the provider's error format, before or instead of the provider's."""

    def __init__(self, status: int, code: str, message: str,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


@dataclass(frozen=True)
class Route:
    """Where one request goes and what it may cost."""

    agent: str
    model: str
    spec: Model
    upstream: Upstream
    estimator: str
    input_estimate: int
    max_output: int
    pool_id: str | None


class Gateway:
    """The proxy over one server's exchanges, with one pooled HTTP client upstream."""

    def __init__(self, exchanges: Exchanges, *,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.exchanges = exchanges
        self._client = httpx.AsyncClient(
            transport=transport, timeout=httpx.Timeout(600.0, connect=CONNECT_TIMEOUT),
            # Idle connections are dropped after 2 s, before a provider's own idle timeout
            # (often 5 s) can close one under a request just sent on it.
            limits=httpx.Limits(max_connections=1000, max_keepalive_connections=200,
                                keepalive_expiry=2.0))

    async def close(self) -> None:
        await self._client.aclose()

    # -- one request ------------------------------------------------------------------------

    async def handle(self, request: Request, dialect: Dialect) -> Response:
        try:
            return await self._handle(request, dialect)
        except GatewayError as exc:
            return self.error(dialect, exc)
        except ExchangeError as exc:  # the ledger itself (busy, unreadable): never a provider's
            status = status_for(exc)
            return self.error(dialect, GatewayError(503 if status >= 500 else 400, exc.code,
                                                    exc.message))

    async def count_tokens(self, request: Request) -> Response:
        """Anthropic's free token count, forwarded with the provider's key."""
        dialect = DIALECTS["anthropic"]
        try:
            body = _json_body(await request.body())
            agent, config = await to_thread.run_sync(self.authenticate,
                                                     api_key(request.headers))
            route = self._route(config, dialect, agent, {**body, "max_tokens": 1}, None)
            body["model"] = route.spec.upstream_model or route.model
            answer = await self._client.post(
                route.upstream.base_url.rstrip("/") + dialect.path + "/count_tokens",
                json=body, headers=dialect.upstream_headers(dict(request.headers),
                                                            _provider_key(route.upstream)))
        except GatewayError as exc:
            return self.error(dialect, exc)
        except httpx.HTTPError as exc:
            return self.error(dialect, GatewayError(
                502, "upstream_unreachable", f"the provider could not be reached: {_reason(exc)}"))
        return Response(answer.content, status_code=answer.status_code,
                        media_type=answer.headers.get("content-type", "application/json"))

    def error(self, dialect: Dialect, exc: GatewayError) -> Response:
        return JSONResponse(dialect.error_body(exc.status, exc.code, exc.message),
                            status_code=exc.status, headers=exc.headers)

    async def _handle(self, request: Request, dialect: Dialect) -> Response:
        body = _json_body(await request.body())
        known = request.scope.get("state", {}).get("principal")  # server/limits.py
        key, pool_id = api_key(request.headers), request.headers.get(POOL_HEADER)
        route, provider_key, reservation = await run_short_write(
            self.exchanges.local, lambda: self._admit(key, known, dialect, body, pool_id))
        stream = body.get("stream") is True
        wants_usage = dialect.prepare_stream(body) if stream else True
        body["model"] = route.spec.upstream_model or route.model
        if dialect.max_output(body) is None:
            dialect.set_max_output(body, route.max_output)
        timeout = httpx.Timeout(float(route.upstream.timeout_seconds), connect=CONNECT_TIMEOUT)
        upstream = httpx.Request(
            "POST", route.upstream.base_url.rstrip("/") + dialect.path,
            headers=dialect.upstream_headers(dict(request.headers), provider_key),
            content=json.dumps(body).encode(), extensions={"timeout": timeout.as_dict()})
        started = time.perf_counter()
        try:
            answer = await self._client.send(upstream, stream=True)
        except httpx.HTTPError as exc:
            await self._settle(reservation, None, started)
            raise GatewayError(502, "upstream_unreachable",
                               f"the provider could not be reached: {_reason(exc)}") from None
        if answer.status_code >= 400 or not stream:
            return await self._answer_whole(dialect, route, reservation, answer, started)
        meter = StreamMeter(wants_usage=wants_usage)
        return MeteredStream(answer, dialect, meter,
                             lambda: self._finish_stream(route, reservation, meter, started))

    async def _answer_whole(self, dialect: Dialect, route: Route, reservation: Reservation,
                            answer: httpx.Response, started: float) -> Response:
        """A plain answer, or any error: read it whole, settle, pass it on."""
        try:
            content = await answer.aread()
        except httpx.HTTPError as exc:
            await self._settle(reservation, None, started)
            raise GatewayError(502, "upstream_failed",
                               f"the provider broke off its answer: {_reason(exc)}") from None
        finally:
            await answer.aclose()
        headers = _passed_headers(answer)
        if answer.status_code >= 400:
            await self._settle(reservation, None, started)
            return Response(content, status_code=answer.status_code, headers=headers,
                            media_type=answer.headers.get("content-type", "application/json"))
        try:
            data = json.loads(content)
        except ValueError:
            data = None
        reported = dialect.usage(data)
        if reported is None:  # a server that reports no usage: count what it sent
            reported = (route.input_estimate,
                        estimate_text(dialect.text(data), route.estimator))
        usage = Usage(reported[0], reported[1], dialect.request_id(data))
        latency = round((time.perf_counter() - started) * 1000)
        headers["x-exchange-reservation"] = f"r{reservation.id}"
        # Charged once the answer is on its way: the client does not wait for the books
        # (a crash in between leaves the hold for settle to close).
        return Response(content, status_code=answer.status_code, headers=headers,
                        media_type=answer.headers.get("content-type", "application/json"),
                        background=BackgroundTask(self._settle, reservation, usage, started,
                                                  latency))

    async def _finish_stream(self, route: Route, reservation: Reservation, meter: StreamMeter,
                             started: float) -> None:
        """After a stream: the reported usage when it was complete; what was seen when it
        was cut short (at most the reservation); nothing when the provider failed at once."""
        complete = meter.finished and meter.output_tokens is not None and not meter.failed
        generated = meter.generated
        if complete and meter.input_tokens is not None:
            usage = Usage(meter.input_tokens, meter.output_tokens or 0, meter.request_id)
        elif meter.failed and not generated:
            usage = None
        else:
            seen = estimate_text(generated, route.estimator)
            usage = Usage(meter.input_tokens if meter.input_tokens is not None
                          else route.input_estimate,
                          max(seen, meter.output_tokens or 0), meter.request_id, partial=True)
        await self._settle(reservation, usage, started)

    async def _settle(self, reservation: Reservation, usage: Usage | None,
                      started: float, latency: int | None = None) -> Any:
        if latency is None:
            latency = round((time.perf_counter() - started) * 1000)
        if usage is not None:
            usage = Usage(usage.input_tokens, usage.output_tokens, usage.provider_request_id,
                          latency, usage.partial)

        def settle() -> Any:
            with self.exchanges.lend() as ex:
                if usage is None:
                    return ex.metering.release(reservation, latency_ms=latency)
                return ex.metering.capture(reservation, usage)

        with anyio.CancelScope(shield=True):  # a client gone away does not stop the books
            return await run_short_write(self.exchanges.local, settle)

    # -- before the provider ------------------------------------------------------------------

    def authenticate(self, key: str | None) -> tuple[str, Config]:
        with self.exchanges.lend() as ex:
            return _agent_of(ex, key, None), ex.config

    def _admit(self, key: str | None, known: Principal | None, dialect: Dialect,
               body: dict[str, Any], pool_id: str | None
               ) -> tuple[Route, str | None, Reservation]:
        """Who asks, where the request goes, and its worst case reserved: one worker
        thread and one borrowed exchange for all three (the gateway's hot path)."""
        with self.exchanges.lend() as ex:
            agent = _agent_of(ex, key, known)
            route = self._route(ex.config, dialect, agent, body, pool_id)
            provider_key = _provider_key(route.upstream)
            return route, provider_key, self._reserve(ex, route)

    def _route(self, config: Config, dialect: Dialect, agent: str, body: dict[str, Any],
               pool_id: str | None) -> Route:
        requested = body.get("model")
        if not isinstance(requested, str) or not requested:
            raise GatewayError(400, "invalid_input", "model is required: an exchange model, "
                               "task:<type> or a configured upstream_model")
        try:
            model = metering.resolve_model(config, agent, requested[:200])
        except InvalidInput as exc:
            raise GatewayError(404, "unknown_model", exc.message) from None
        spec = config.models[model]
        if spec.upstream is None:
            raise GatewayError(404, "not_served", f"model {model!r} has no upstream: set "
                               f"models.{model}.upstream in config.toml to serve it")
        upstream = config.upstreams[spec.upstream]
        if upstream.protocol != dialect.name:
            other = "/v1/messages" if upstream.protocol == "anthropic" else "/v1/chat/completions"
            raise GatewayError(400, "wrong_protocol", f"model {model!r} is served over the "
                               f"{upstream.protocol} protocol: send it to {other}")
        max_output = dialect.max_output(body)
        if max_output is not None and not 0 < max_output <= 10_000_000:
            raise GatewayError(400, "invalid_input", "max_tokens must be from 1 to 10000000")
        estimator = effective_estimator(upstream.token_estimator)
        return Route(agent, model, spec, upstream, estimator, estimate_prompt(body, estimator),
                     max_output or spec.max_output_tokens, pool_id or None)

    def _reserve(self, ex: Any, route: Route) -> Reservation:
        try:
            return ex.metering.reserve(route.agent, route.model, route.input_estimate,
                                       route.max_output, route.estimator,
                                       pool_id=route.pool_id)
        except Refused as exc:
            raise self._refusal(ex, route, exc) from None
        except ExchangeError as exc:
            status = 404 if isinstance(exc, NotFound) else status_for(exc)
            raise GatewayError(400 if status == 422 else status, exc.code,
                               exc.message) from None

    def _refusal(self, ex: Any, route: Route, exc: Refused) -> GatewayError:
        """A refusal as the provider would say it: 429 for a window or the burst limit
        (with Retry-After), 402 for funds and the reserve, 403 for a pool that is not the
        caller's to spend."""
        status = 403 if isinstance(exc, NotAllowed) else status_for(exc)
        headers = {}
        if status == 429:
            needed = getattr(exc, "needed", 0)
            headers["retry-after"] = str(ex.metering.retry_after(route.agent, exc.code, needed))
        if exc.code not in ("hourly_limit", "daily_limit"):
            headers["x-should-retry"] = "false"  # the same request would be refused again
        return GatewayError(status, exc.code, f"Agent Token Exchange: {exc.message}", headers)


class MeteredStream(Response):
    """A provider's stream passed to the client event by event while a ``StreamMeter``
    reads it; when it ends for any reason (done, the client gone, the provider broken
    off) ``finish`` settles the reservation, shielded from the cancellation."""

    def __init__(self, answer: httpx.Response, dialect: Dialect, meter: StreamMeter,
                 finish: Callable[[], Any]) -> None:
        self.answer, self.dialect, self.meter, self.finish = answer, dialect, meter, finish
        self.status_code = answer.status_code
        self.background = None
        self.init_headers({**_passed_headers(answer), "cache-control": "no-cache",
                           "content-type": answer.headers.get("content-type",
                                                              "text/event-stream")})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            async with anyio.create_task_group() as group:
                async def watch() -> None:
                    while (await receive())["type"] != "http.disconnect":
                        pass
                    group.cancel_scope.cancel()  # the client went away: stop reading

                group.start_soon(watch)
                await send({"type": "http.response.start", "status": self.status_code,
                            "headers": self.raw_headers})
                async for event in self._events():
                    await send({"type": "http.response.body", "body": event,
                                "more_body": True})
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                group.cancel_scope.cancel()
        except (OSError, httpx.HTTPError):
            pass  # the client's socket or the provider's broke: settle what was seen
        finally:
            with anyio.CancelScope(shield=True):
                await self.answer.aclose()
                await self.finish()

    async def _events(self) -> AsyncIterator[bytes]:
        buffer = b""
        async for chunk in self.answer.aiter_raw():
            buffer += chunk.replace(b"\r\n", b"\n")
            while b"\n\n" in buffer:
                event, buffer = buffer.split(b"\n\n", 1)
                if self.dialect.feed(self.meter, event):
                    yield event + b"\n\n"
        if buffer.strip() and self.dialect.feed(self.meter, buffer):
            yield buffer + b"\n\n"


def _agent_of(ex: Any, key: str | None, known: Principal | None) -> str:
    """The agent a request spends as: the key's (looked up unless the body limit already
    did), never an admin's."""
    if known is None:
        try:
            known = ex.keys.authenticate(key)
        except Unauthenticated:
            raise GatewayError(401, "unauthenticated", KEY_HINT) from None
    if known.agent is None:
        raise GatewayError(403, "forbidden", "an admin key cannot spend: the gateway "
                           "charges an agent, so use that agent's key")
    return known.agent


def api_key(headers: Any) -> str | None:
    """The exchange key a client sent: OpenAI SDKs send a bearer token, Anthropic's an
    x-api-key header."""
    authorization = headers.get("authorization")
    if authorization and authorization.lower().startswith("bearer "):
        return str(authorization[7:].strip())
    key = headers.get("x-api-key")
    return str(key).strip() if key else None


def _json_body(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except ValueError:
        raise GatewayError(400, "invalid_input", "the request body is not JSON") from None
    if not isinstance(body, dict):
        raise GatewayError(400, "invalid_input", "the request body must be a JSON object")
    return body


def _provider_key(upstream: Upstream) -> str | None:
    if upstream.api_key_env is None:
        return None
    key = os.environ.get(upstream.api_key_env)
    if not key:
        raise GatewayError(502, "upstream_key_missing", f"the exchange has no provider key: "
                           f"set {upstream.api_key_env} where `token-exchange serve` runs")
    return key


def _passed_headers(answer: httpx.Response) -> dict[str, str]:
    """The provider's request ids, passed back (content framing is the server's own)."""
    return {name: answer.headers[name] for name in ("request-id", "x-request-id")
            if name in answer.headers}


def _reason(exc: httpx.HTTPError) -> str:
    return f"{type(exc).__name__}{': ' + str(exc) if str(exc) else ''}"[:200]


__all__ = ["Gateway", "GatewayError", "MeteredStream", "api_key"]
