"""The server's exchanges: one lent to each request in flight, all queueing their writes
on one lock the server gives them."""

from __future__ import annotations

import threading

import pytest

from agent_token_exchange import RateLimited
from agent_token_exchange.server import events
from agent_token_exchange.server.auth import Exchanges, FairLock
from agent_token_exchange.service.api_keys import Principal
from agent_token_exchange.service.lifecycle import exchange_opener

from ..ledger_checks import shares_a_connection


class CountingLock:
    """A lock that counts how often it was taken."""

    def __init__(self) -> None:
        self.taken = 0
        self._lock = threading.Lock()

    def __enter__(self) -> None:
        self._lock.acquire()
        self.taken += 1

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


def test_requests_in_flight_get_their_own_exchange_and_give_it_back(home, clock):
    """Two requests at once hold two exchanges; a later request reuses one given back."""
    exchanges = Exchanges(exchange_opener(home, clock=clock, write_lock=FairLock()))
    try:
        with exchanges.lend() as first, exchanges.lend() as second:
            assert first is not second
            assert not shares_a_connection(first, second)
        with exchanges.lend() as again:
            assert again in (first, second)
    finally:
        exchanges.close()


def test_every_write_holds_the_shared_write_lock_and_reads_do_not(home, clock):
    """Writes (award, doctor --fix) take the opener's lock; a balance read does not."""
    lock = CountingLock()
    opener = exchange_opener(home, clock=clock, write_lock=lock)
    with opener() as ex, opener() as other:
        assert ex.write_lock is other.write_lock is lock
        ex.balance("zero")
        assert lock.taken == 0
        ex.award("zero", "1", "test", "one token")
        other.doctor(fix=True)
        assert lock.taken == 2
        assert other.balance("zero").tokens == ex.balance("zero").tokens


def test_an_agents_event_batch_holds_only_its_own_events(home, clock, monkeypatch):
    """The event stream asks the queries for the caller's own transfers and refusals, so a
    batch (here two) holds an agent's events even when others' came first."""
    monkeypatch.setattr(events, "BATCH", 2)
    exchanges = Exchanges(exchange_opener(home, clock=clock))
    try:
        with exchanges.lend() as ex:
            start = events.latest_cursor(ex)
            for _ in range(3):
                ex.award("claude", "1", "t", "someone else's")
            ex.award("zero", "1", "t", "mine")
            with pytest.raises(RateLimited):
                ex.llm("claude", "coding", 100_000)
        zero = Principal("k", "zero", admin=False)
        transfers, refusals = events._poll(exchanges, zero, start)
        assert [t.destination for t in transfers] == ["agent:zero"] and refusals == []
        admin = Principal("a", None, admin=True)
        transfers, refusals = events._poll(exchanges, admin, start)
        assert len(transfers) == 2 and [r.agent for r in refusals] == ["claude"]
    finally:
        exchanges.close()
