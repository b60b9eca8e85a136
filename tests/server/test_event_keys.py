"""The live event stream and its key (issue 10, findings 9 and 11): a revoked key's open
stream ends within seconds, and an event id beyond what a seq can be is bad input, not a
traceback. On both stores."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agent_token_exchange import open_exchange

from .conftest import RunningServer


@pytest.fixture
def server(home: Path) -> Iterator[RunningServer]:
    running = RunningServer(home)
    yield running
    running.stop()


def test_a_revoked_keys_open_event_stream_ends_within_seconds(home: Path,
                                                              server: RunningServer):
    """A revoked key's open event stream ends within seconds."""
    with open_exchange(home) as ex:
        issued = ex.keys.create(agent="claude")
    received: list[str] = []
    ended = threading.Event()

    def listen() -> None:
        headers = {"Authorization": f"Bearer {issued.key}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as http, \
                http.stream("GET", "/v1/events") as response:
            assert response.status_code == 200
            for chunk in response.iter_text():
                received.append(chunk)
        ended.set()

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    deadline = time.monotonic() + 10
    while not received and time.monotonic() < deadline:
        time.sleep(0.05)
    assert received, "the stream did not open"
    time.sleep(1.5)
    assert not ended.is_set()  # a valid key's stream stays open
    with open_exchange(home) as ex:
        ex.keys.revoke(issued.key_id)
    revoked_at = time.monotonic()
    assert ended.wait(timeout=5), "the revoked key's stream is still open"
    assert time.monotonic() - revoked_at < 4
    assert "revoked" in "".join(received)
    with httpx.Client(base_url=server.url, timeout=5,
                      headers={"Authorization": f"Bearer {issued.key}"}) as http:
        assert http.get("/v1/events").status_code == 401


@pytest.mark.parametrize("after", ["99999999999999999999.0", "0.99999999999999999999",
                                   "4611686018427387905.0"])
def test_an_event_id_out_of_range_is_bad_input(home: Path, server: RunningServer,
                                               after: str):
    """An event id out of range is bad input."""
    with open_exchange(home) as ex:
        key = ex.keys.create(admin=True).key
    with httpx.Client(base_url=server.url, timeout=5,
                      headers={"Authorization": f"Bearer {key}"}) as http:
        for response in (http.get("/v1/events", params={"after": after}),
                         http.get("/v1/events", headers={"Last-Event-ID": after})):
            assert response.status_code == 422, response.text
            error = response.json()["error"]
            assert error["code"] == "invalid_input"
            assert "out of range" in error["message"] and "\n" not in error["message"]
