"""A Content-Security-Policy on every response: scripts, styles and connections come from
the exchange itself, and no inline script runs. Text the API returns (agent, pool and
refusal names) may have come from an import file; if it ever reached the page as markup,
the browser would still refuse to run it.

The one page with inline script is Swagger UI on /docs (FastAPI writes its start-up
script into the page). Rather than allow inline script there, each inline script of an
HTML page is allowed by its SHA-256 hash, so only the exact script the server wrote runs.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

POLICY = ("default-src 'self'; script-src 'self'{hashes}; style-src 'self'; "
          "img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; "
          "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def policy_for(html: bytes = b"") -> str:
    """The policy for a response; ``html``'s inline scripts are allowed by their hash."""
    hashes = "".join(
        " 'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode("ascii") + "'"
        for script in _INLINE_SCRIPT.findall(html))
    return POLICY.format(hashes=hashes)


class ContentSecurityPolicy:
    """ASGI middleware: adds the policy (and ``nosniff``) to every HTTP response. HTML
    bodies are small pages and are read whole to hash their inline scripts; every other
    response (the event stream above all) passes through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] | None = None
        body: list[bytes] = []

        async def send_with_policy(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", []))
                if headers.get(b"content-type", b"").startswith(b"text/html"):
                    start = dict(message)  # held until the whole page is known
                    return
                await send(_with_policy(message, policy_for()))
                return
            if start is not None and message["type"] == "http.response.body":
                body.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                page = b"".join(body)
                await send(_with_policy(start, policy_for(page)))
                await send({"type": "http.response.body", "body": page})
                return
            await send(message)

        await self.app(scope, receive, send_with_policy)


def _with_policy(start: dict[str, Any] | Message, policy: str) -> Message:
    headers = [(k, v) for k, v in start.get("headers", [])
               if k.lower() not in (b"content-security-policy", b"x-content-type-options")]
    headers += [(b"content-security-policy", policy.encode("ascii")),
                (b"x-content-type-options", b"nosniff")]
    return {**start, "headers": headers}
