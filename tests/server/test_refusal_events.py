"""Counted refusals in the live event stream, on both stores: a repeat moves its row to a
new number with the count raised, so a client following the stream by event id sees each
repeat arrive, counted, and the log still holds one row."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agent_token_exchange import RateLimited, open_exchange

from ..ledger_checks import last_seqs
from .conftest import RunningServer


@pytest.fixture
def server(home: Path) -> Iterator[RunningServer]:
    running = RunningServer(home)
    yield running
    running.stop()


def _refuse_claude(home: Path, times: int) -> None:
    with open_exchange(home) as ex:
        for _ in range(times):
            with pytest.raises(RateLimited):
                ex.llm("claude", "coding", 10**6)


def _events(http: httpx.Client, after: str) -> list[tuple[str, str, dict]]:
    """(id, event, data) of each event the stream sends after ``after`` (at most one)."""
    response = http.get("/v1/events", params={"after": after, "max_events": 1})
    assert response.status_code == 200
    found = []
    for frame in response.text.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in frame.splitlines()
                     if ": " in line and not line.startswith(":"))
        if "event" in lines:
            found.append((lines["id"], lines["event"], json.loads(lines["data"])))
    return found


def test_each_repeat_of_a_refusal_arrives_counted(home: Path, server: RunningServer):
    """Three refusals are one event counting 3; a fourth arrives as the next event, counting
    4, from the same first time; `/v1/refusals` holds one row."""
    with open_exchange(home) as ex:
        key = ex.keys.create(agent="claude").key
        start = f"{last_seqs(ex)[0]}.0"
    _refuse_claude(home, 3)
    with httpx.Client(base_url=server.url, timeout=10,
                      headers={"Authorization": f"Bearer {key}"}) as http:
        ((first_id, kind, first),) = _events(http, start)
        assert (kind, first["code"], first["count"]) == ("refusal", "burst_limit", 3)
        _refuse_claude(home, 1)
        ((_, _, again),) = _events(http, first_id)
        assert (again["count"], again["first_at"]) == (4, first["first_at"])
        assert again["seq"] > first["seq"]
        rows = http.get("/v1/refusals").json()["refusals"]
        assert [(r["seq"], r["count"]) for r in rows] == [(again["seq"], 4)]
