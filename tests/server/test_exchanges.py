"""The server's exchanges: one lent to each request in flight, all queueing their
operations to one writer (group commit) and their other writes on one lock."""

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


def test_operations_go_to_the_writer_other_writes_hold_the_lock_and_reads_neither(home, clock):
    """An operation (award) is applied by the opener's one writer; a write that is not an
    operation (doctor --fix) takes the opener's lock; a balance read does neither."""
    lock = CountingLock()
    opener = exchange_opener(home, clock=clock, write_lock=lock)
    try:
        with opener() as ex, opener() as other:
            assert ex.write_lock is other.write_lock is lock
            ex.balance("zero")
            assert lock.taken == 0 and opener.writer is not None and opener.writer.jobs == 0
            ex.award("zero", "1", "test", "one token")
            assert opener.writer.jobs == 1 and lock.taken == 0
            other.doctor(fix=True)
            assert lock.taken == 1
            assert other.balance("zero").tokens == ex.balance("zero").tokens
    finally:
        opener.close()


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


def test_concurrent_operations_share_transactions_and_each_gets_its_own_answer(home, clock):
    """Forty threads spending at once through one opener are applied in fewer
    transactions than operations, and each caller gets its own charge (its own seq)."""
    opener = exchange_opener(home, clock=clock)
    exchanges = [opener() for _ in range(40)]
    seqs: list[int] = []
    start = threading.Barrier(40)

    def spend(ex) -> None:
        start.wait()
        seqs.append(ex.llm("zero", "coding", 100, "llama3.2").seq)

    try:
        threads = [threading.Thread(target=spend, args=(ex,)) for ex in exchanges]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert opener.writer is not None
        assert sorted(seqs) == list(range(min(seqs), min(seqs) + 40))
        assert opener.writer.jobs == 40 and opener.writer.batches < 40
        assert exchanges[0].doctor().healthy
    finally:
        for ex in exchanges:
            ex.close()
        opener.close()
