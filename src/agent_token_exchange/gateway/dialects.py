"""What differs between the OpenAI and Anthropic wire formats: where the output limit
and the usage are, how a stream reports usage, and how an error looks (so a refusal
raises each SDK's usual exception)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

# Request headers a client may send that the provider needs; everything else (the
# client's exchange key above all) stays here.
_FORWARDED = {"anthropic-version", "anthropic-beta", "openai-beta", "user-agent"}


@dataclass
class StreamMeter:
    """Reads a provider's server-sent events as they pass: the request id, the usage the
    provider reports, and the text generated so far (for a stream cut short)."""

    wants_usage: bool = True  # OpenAI: did the client ask for the usage chunk itself
    request_id: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    finished: bool = False  # the provider said the message is complete
    failed: bool = False  # the provider sent an error event
    pieces: list[str] = field(default_factory=list)

    @property
    def generated(self) -> str:
        return "".join(self.pieces)


class Dialect:
    """One provider protocol."""

    name = ""
    path = ""  # appended to the upstream's base_url

    # -- requests ---------------------------------------------------------------------------

    def max_output(self, body: dict[str, Any]) -> int | None:
        value = body.get("max_tokens")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def set_max_output(self, body: dict[str, Any], tokens: int) -> None:
        body["max_tokens"] = tokens

    def prepare_stream(self, body: dict[str, Any]) -> bool:
        """Make a streamed request report its usage; returns whether the client asked for
        that itself (what it did not ask for is not shown to it)."""
        return True

    def upstream_headers(self, client: dict[str, str], api_key: str | None) -> dict[str, str]:
        headers = {name: value for name, value in client.items() if name in _FORWARDED}
        headers["content-type"] = "application/json"
        headers.update(self.auth_headers(api_key))
        return headers

    def auth_headers(self, api_key: str | None) -> dict[str, str]:
        raise NotImplementedError

    # -- answers ----------------------------------------------------------------------------

    def usage(self, data: Any) -> tuple[int, int] | None:
        raise NotImplementedError

    def request_id(self, data: Any) -> str | None:
        value = data.get("id") if isinstance(data, dict) else None
        return value if isinstance(value, str) else None

    def text(self, data: Any) -> str:
        raise NotImplementedError

    def feed(self, meter: StreamMeter, event: bytes) -> bool:
        """Read one event; False when the client must not see it."""
        raise NotImplementedError

    def error_body(self, status: int, code: str, message: str) -> dict[str, Any]:
        raise NotImplementedError


def _event_data(event: bytes) -> tuple[str, Any]:
    """(event name, parsed data) of one server-sent event; data None when not JSON."""
    name, data = "", []
    for line in event.split(b"\n"):
        if line.startswith(b"event:"):
            name = line[6:].strip().decode("utf-8", "replace")
        elif line.startswith(b"data:"):
            data.append(line[5:].lstrip(b" "))
    raw = b"\n".join(data)
    if not raw or raw == b"[DONE]":
        return name, raw.decode() if raw else None
    try:
        return name, json.loads(raw)
    except ValueError:
        return name, None


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


class OpenAIDialect(Dialect):
    name = "openai"
    path = "/chat/completions"

    def max_output(self, body: dict[str, Any]) -> int | None:
        for key in ("max_completion_tokens", "max_tokens"):
            value = body.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                return value
        return None

    def prepare_stream(self, body: dict[str, Any]) -> bool:
        options = body.get("stream_options")
        asked = isinstance(options, dict) and options.get("include_usage") is True
        body["stream_options"] = {**(options if isinstance(options, dict) else {}),
                                  "include_usage": True}
        return asked

    def auth_headers(self, api_key: str | None) -> dict[str, str]:
        return {"authorization": f"Bearer {api_key}"} if api_key else {}

    def usage(self, data: Any) -> tuple[int, int] | None:
        usage = data.get("usage") if isinstance(data, dict) else None
        if not isinstance(usage, dict):
            return None
        return _count(usage.get("prompt_tokens")), _count(usage.get("completion_tokens"))

    def text(self, data: Any) -> str:
        parts = []
        for choice in data.get("choices") or () if isinstance(data, dict) else ():
            message = choice.get("message") if isinstance(choice, dict) else None
            if isinstance(message, dict):
                parts.append(_message_text(message))
        return "".join(parts)

    def feed(self, meter: StreamMeter, event: bytes) -> bool:
        _, data = _event_data(event)
        if data == "[DONE]":
            meter.finished = True
            return True
        if not isinstance(data, dict):
            return True
        if "error" in data:
            meter.failed = True
            return True
        meter.request_id = meter.request_id or self.request_id(data)
        choices = data.get("choices") or []
        for choice in choices:
            delta = choice.get("delta") if isinstance(choice, dict) else None
            if isinstance(delta, dict):
                meter.pieces.append(_message_text(delta))
        usage = self.usage(data)
        if usage is not None:
            meter.input_tokens, meter.output_tokens = usage
            # The chunk the gateway asked for (no choices, only usage) stays hidden from a
            # client that did not ask for it.
            return meter.wants_usage or bool(choices)
        return True

    def error_body(self, status: int, code: str, message: str) -> dict[str, Any]:
        kind = {400: "invalid_request_error", 401: "authentication_error",
                402: "insufficient_quota", 403: "permission_error", 404: "not_found_error",
                429: "rate_limit_exceeded"}.get(status, "api_error")
        return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def _message_text(message: dict[str, Any]) -> str:
    """The text of an OpenAI message or delta: content, reasoning, tool-call arguments."""
    parts = []
    for key in ("content", "reasoning_content", "refusal"):
        value = message.get(key)
        if isinstance(value, str):
            parts.append(value)
    for call in message.get("tool_calls") or ():
        function = call.get("function") if isinstance(call, dict) else None
        if isinstance(function, dict):
            for key in ("name", "arguments"):
                if isinstance(function.get(key), str):
                    parts.append(function[key])
    return "".join(parts)


class AnthropicDialect(Dialect):
    name = "anthropic"
    path = "/v1/messages"

    def auth_headers(self, api_key: str | None) -> dict[str, str]:
        return {"x-api-key": api_key} if api_key else {}

    def upstream_headers(self, client: dict[str, str], api_key: str | None) -> dict[str, str]:
        headers = super().upstream_headers(client, api_key)
        headers.setdefault("anthropic-version", "2023-06-01")
        return headers

    def usage(self, data: Any) -> tuple[int, int] | None:
        usage = data.get("usage") if isinstance(data, dict) else None
        if not isinstance(usage, dict):
            return None
        return _anthropic_input(usage), _count(usage.get("output_tokens"))

    def text(self, data: Any) -> str:
        parts = []
        for block in data.get("content") or () if isinstance(data, dict) else ():
            if isinstance(block, dict):
                parts.append(_block_text(block))
        return "".join(parts)

    def feed(self, meter: StreamMeter, event: bytes) -> bool:
        name, data = _event_data(event)
        if not isinstance(data, dict):
            return True
        kind = data.get("type", name)
        if kind == "message_start" and isinstance(data.get("message"), dict):
            message = data["message"]
            meter.request_id = self.request_id(message)
            usage = message.get("usage")
            if isinstance(usage, dict):
                meter.input_tokens = _anthropic_input(usage)
                meter.output_tokens = _count(usage.get("output_tokens"))
        elif kind == "content_block_delta" and isinstance(data.get("delta"), dict):
            meter.pieces.append(_block_text(data["delta"]))
        elif kind == "content_block_start" and isinstance(data.get("content_block"), dict):
            meter.pieces.append(_block_text(data["content_block"]))
        elif kind == "message_delta" and isinstance(data.get("usage"), dict):
            usage = data["usage"]  # cumulative: the latest figures win
            meter.output_tokens = _count(usage.get("output_tokens"))
            if any(key in usage for key in ("input_tokens", "cache_read_input_tokens")):
                meter.input_tokens = max(meter.input_tokens or 0, _anthropic_input(usage))
        elif kind == "message_stop":
            meter.finished = True
        elif kind == "error":
            meter.failed = True
        return True

    def error_body(self, status: int, code: str, message: str) -> dict[str, Any]:
        kind = {400: "invalid_request_error", 401: "authentication_error", 402: "billing_error",
                403: "permission_error", 404: "not_found_error", 413: "request_too_large",
                429: "rate_limit_error"}.get(status, "api_error")
        return {"type": "error", "error": {"type": kind, "message": message}}


def _anthropic_input(usage: dict[str, Any]) -> int:
    """Input tokens, prompt-cache reads and writes included (all priced as input)."""
    return sum(_count(usage.get(key)) for key in
               ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"))


def _block_text(block: dict[str, Any]) -> str:
    parts = []
    for key in ("text", "partial_json", "thinking"):
        if isinstance(block.get(key), str):
            parts.append(block[key])
    if block.get("type") == "tool_use" and isinstance(block.get("input"), dict) and block["input"]:
        parts.append(json.dumps(block["input"]))
    return "".join(parts)


DIALECTS: dict[str, Dialect] = {"openai": OpenAIDialect(), "anthropic": AnthropicDialect()}
