"""Request bodies (issue 10, finding 8): the key is checked before the body is read, and a
body over the limit is refused with 413 (from Content-Length, and while it streams), so a
huge body never makes the server grow."""

from __future__ import annotations

import json
import select
import socket
from pathlib import Path

from .conftest import Service

CHUNK = b"x" * (256 * 1024)


def rss_bytes() -> int:
    """This process's resident memory (the server runs in a thread of it)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def send_big_body(svc: Service, path: str, key: str | None, total: int, *,
                  chunked: bool) -> tuple[int, dict, int]:
    """POST ``total`` bytes to ``path``, stopping as soon as the server answers. Returns the
    status, the JSON error and how many body bytes went out before the answer."""
    host, port = svc.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    head = [f"POST {path} HTTP/1.1", f"Host: {host}", "Content-Type: application/json"]
    if key:
        head.append(f"Authorization: Bearer {key}")
    head.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}")
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
    sent = 0
    answer = b""
    try:
        while sent < total:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            piece = CHUNK if not chunked else b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK)
            sock.sendall(piece)
            sent += len(CHUNK)
    except (BrokenPipeError, ConnectionResetError):
        pass
    try:
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    finally:
        sock.close()
    status = int(answer.split(b" ", 2)[1])
    body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    return status, body, sent


def test_a_huge_body_without_a_valid_key_is_refused_unread(service: Service):
    """300 MB to a write with no key, or a wrong one: 401 before the body is read."""
    before = rss_bytes()
    for key in (None, "atx_not_a_real_key_000000000000000000000000"):
        for chunked in (False, True):
            status, body, sent = send_big_body(service, "/v1/agents/claude/llm", key,
                                               300 * 1024 * 1024, chunked=chunked)
            assert status == 401, body
            assert body["ok"] is False and body["error"]["code"] == "unauthenticated"
            assert sent < 32 * 1024 * 1024  # it answered long before the body was sent
    assert rss_bytes() - before < 64 * 1024 * 1024


def test_a_body_over_the_limit_is_refused_with_413(service: Service):
    """With a valid key: over 1 MB is 413, declared (Content-Length) or streamed (chunked),
    and the server does not grow."""
    before = rss_bytes()
    for chunked in (False, True):
        status, body, sent = send_big_body(service, "/v1/agents/claude/llm",
                                           service.keys["claude"], 300 * 1024 * 1024,
                                           chunked=chunked)
        assert status == 413, body
        assert body == {"ok": False, "error": {
            "code": "too_large",
            "message": "the request body is larger than the server accepts (1048576 bytes)"}}
        assert sent < 32 * 1024 * 1024
    assert rss_bytes() - before < 64 * 1024 * 1024


def test_bodies_within_the_limit_still_work(service: Service):
    """A normal write (and one sent chunked) goes through the middleware unchanged."""
    with service.as_agent("claude") as http:
        response = http.post("/v1/agents/claude/llm",
                             json={"task_type": "coding", "token_count": 1000})
        assert response.status_code == 200, response.text
        streamed = http.post("/v1/agents/claude/llm", content=iter(
            [b'{"task_type": "coding", ', b'"token_count": 1000}']),
            headers={"Content-Type": "application/json"})
        assert streamed.status_code == 200, streamed.text
        bad = http.post("/v1/agents/claude/llm", content=b"{not json",
                        headers={"Content-Type": "application/json"})
        assert bad.status_code == 422
