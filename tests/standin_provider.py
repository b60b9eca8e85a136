"""A stand-in LLM provider speaking OpenAI's chat completions and Anthropic's messages,
plain and streamed, with usage reported as the real APIs report it.

It stands in for OpenAI and Anthropic because the tests (and the benchmark) have no
network: the gateway must be tested against real HTTP, real SDKs and real server-sent
events, and only the far end is replaced. What it generates is a word per token (" w0
w1 …"), so the output tokens it reports are exactly the words it sent. Input tokens are
counted with OpenAI's cl100k_base encoding and its chat framing (3 tokens a message, 3
for the reply) on the OpenAI side; the Anthropic side counts the same tokens plus 15%
(Claude's tokenizer is not public; independent counts put it above cl100k on English)
and 3 a message, so estimates made with cl100k can come out low there, as they can in
life.

Knobs (attributes, changed by a test between requests): ``reply_words`` (how many
words to answer, at most max_tokens), ``fail_status`` (answer every request with that
error), ``word_delay`` (seconds between streamed words), ``input_extra`` (tokens added to
every reported input: a tokenizer that counts higher than any estimate). ``calls`` counts
requests; ``requests`` keeps their bodies and headers.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import socket
import threading
import time
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from agent_token_exchange.gateway.estimate import cl100k, prompt_parts

OPENAI_KEY = "sk-standin-openai"
ANTHROPIC_KEY = "sk-ant-standin"


class StandinProvider:
    """The provider's state and its Starlette app."""

    def __init__(self) -> None:
        self.reply_words = 12
        self.fail_status: int | None = None
        self.word_delay = 0.0
        self.input_extra = 0
        self.calls = 0
        self.requests: list[dict[str, Any]] = []
        self.keep_requests = True
        self.streams_finished = 0
        self._ids = itertools.count(1)
        self.app = Starlette(routes=[
            Route("/v1/chat/completions", self.chat_completions, methods=["POST"]),
            Route("/v1/messages", self.messages, methods=["POST"]),
            Route("/v1/messages/count_tokens", self.count_tokens, methods=["POST"]),
        ])

    # -- counting -----------------------------------------------------------------------

    def openai_input(self, body: dict[str, Any]) -> int:
        texts, messages, images = prompt_parts(body)
        tokens = sum(len(cl100k().encode_ordinary(text)) for text in texts)
        return tokens + 3 * messages + 3 + 1600 * images + self.input_extra

    def anthropic_input(self, body: dict[str, Any]) -> int:
        texts, messages, images = prompt_parts(body)
        tokens = sum(len(cl100k().encode_ordinary(text)) for text in texts)
        return math.ceil(tokens * 1.15) + 3 * messages + 1600 * images + self.input_extra

    def words(self, limit: int) -> list[str]:
        return [f" w{i}" for i in range(min(self.reply_words, limit))]

    # -- OpenAI ---------------------------------------------------------------------------

    async def chat_completions(self, request: Request) -> Response:
        body, refused = await self._receive(request, "authorization", f"Bearer {OPENAI_KEY}")
        if refused is not None:
            return refused
        limit = body.get("max_completion_tokens") or body.get("max_tokens") or 16
        words = self.words(limit)
        prompt = self.openai_input(body)
        ident = f"chatcmpl-standin{next(self._ids)}"
        finish = "length" if len(words) == limit else "stop"
        usage = {"prompt_tokens": prompt, "completion_tokens": len(words),
                 "total_tokens": prompt + len(words)}
        if not body.get("stream"):
            return JSONResponse({
                "id": ident, "object": "chat.completion", "created": int(time.time()),
                "model": body["model"], "choices": [{
                    "index": 0, "message": {"role": "assistant", "content": "".join(words)},
                    "finish_reason": finish, "logprobs": None}],
                "usage": usage}, headers={"x-request-id": f"req_{ident}"})
        include = (body.get("stream_options") or {}).get("include_usage") is True

        def chunk(choices: list[dict[str, Any]], **extra: Any) -> bytes:
            data = {"id": ident, "object": "chat.completion.chunk", "created": 0,
                    "model": body["model"], "choices": choices, **extra}
            if include and "usage" not in extra:
                data["usage"] = None
            return b"data: " + json.dumps(data).encode() + b"\n\n"

        async def events():
            yield chunk([{"index": 0, "delta": {"role": "assistant", "content": ""},
                          "finish_reason": None}])
            for word in words:
                if self.word_delay:
                    await asyncio.sleep(self.word_delay)
                yield chunk([{"index": 0, "delta": {"content": word}, "finish_reason": None}])
            yield chunk([{"index": 0, "delta": {}, "finish_reason": finish}])
            if include:
                yield chunk([], usage=usage)
            yield b"data: [DONE]\n\n"
            self.streams_finished += 1

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"x-request-id": f"req_{ident}"})

    # -- Anthropic ------------------------------------------------------------------------

    async def messages(self, request: Request) -> Response:
        body, refused = await self._receive(request, "x-api-key", ANTHROPIC_KEY)
        if refused is not None:
            return refused
        limit = body.get("max_tokens")
        if not isinstance(limit, int):
            return JSONResponse({"type": "error", "error": {
                "type": "invalid_request_error", "message": "max_tokens: Field required"}},
                status_code=400)
        words = self.words(limit)
        prompt = self.anthropic_input(body)
        ident = f"msg_standin{next(self._ids)}"
        stop = "max_tokens" if len(words) == limit else "end_turn"
        message = {"id": ident, "type": "message", "role": "assistant", "model": body["model"],
                   "content": [{"type": "text", "text": "".join(words)}],
                   "stop_reason": stop, "stop_sequence": None,
                   "usage": {"input_tokens": prompt, "output_tokens": len(words),
                             "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}}
        if not body.get("stream"):
            return JSONResponse(message, headers={"request-id": f"req_{ident}"})

        def event(name: str, data: dict[str, Any]) -> bytes:
            return f"event: {name}\ndata: {json.dumps({'type': name, **data})}\n\n".encode()

        async def events():
            start = {**message, "content": [], "stop_reason": None,
                     "usage": {**message["usage"], "output_tokens": 1}}
            yield event("message_start", {"message": start})
            yield event("content_block_start", {"index": 0, "content_block": {
                "type": "text", "text": ""}})
            yield event("ping", {})
            for word in words:
                if self.word_delay:
                    await asyncio.sleep(self.word_delay)
                yield event("content_block_delta", {"index": 0, "delta": {
                    "type": "text_delta", "text": word}})
            yield event("content_block_stop", {"index": 0})
            yield event("message_delta", {"delta": {"stop_reason": stop, "stop_sequence": None},
                                          "usage": {"output_tokens": len(words)}})
            yield event("message_stop", {})
            self.streams_finished += 1

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"request-id": f"req_{ident}"})

    async def count_tokens(self, request: Request) -> Response:
        body, refused = await self._receive(request, "x-api-key", ANTHROPIC_KEY)
        return refused or JSONResponse({"input_tokens": self.anthropic_input(body)})

    # -- both ---------------------------------------------------------------------------

    async def _receive(self, request: Request, header: str,
                       key: str) -> tuple[dict[str, Any], Response | None]:
        self.calls += 1
        body = json.loads(await request.body())
        if self.keep_requests:
            self.requests.append({"path": request.url.path, "body": body,
                                  "headers": dict(request.headers)})
        if request.headers.get(header) != key:
            return body, JSONResponse({"error": {"message": "bad provider key"}},
                                      status_code=401)
        if self.fail_status is not None:
            if "messages" in request.url.path:
                error = {"type": "error", "error": {"type": "overloaded_error",
                                                    "message": "Overloaded"}}
            else:
                error = {"error": {"message": "The server had an error", "type": "server_error",
                                   "param": None, "code": None}}
            return body, JSONResponse(error, status_code=self.fail_status)
        return body, None


class ServerThread:
    """An ASGI app served by uvicorn on a free loopback port, in a thread."""

    def __init__(self, app: Any) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False,
            lifespan="on", timeout_graceful_shutdown=1))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def upstreams_toml(url: str) -> str:
    """config.toml tables routing the seed's models through the stand-in, plus two models
    priced by input and output (one per protocol)."""
    return f"""
[upstreams.openai]
protocol = "openai"
base_url = "{url}/v1"
api_key_env = "STANDIN_OPENAI_KEY"

[upstreams.anthropic]
protocol = "anthropic"
base_url = "{url}"
api_key_env = "STANDIN_ANTHROPIC_KEY"

[models."gpt-split"]
input_cost_per_1k = 2.5
output_cost_per_1k = 10
upstream = "openai"
upstream_model = "gpt-4o-mini"
max_output_tokens = 64

[models."claude-split"]
input_cost_per_1k = 3
output_cost_per_1k = 15
upstream = "anthropic"
upstream_model = "claude-sonnet-4-5"
max_output_tokens = 64
"""
