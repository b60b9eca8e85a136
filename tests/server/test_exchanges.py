"""The server's exchanges: one lent to each request in flight, all queueing their writes
on one lock the server gives them."""

from __future__ import annotations

import threading

from agent_token_exchange.server.auth import Exchanges, FairLock
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
