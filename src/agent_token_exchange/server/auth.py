"""Who is calling: the bearer key on each request, checked against the key ring; and the
exchanges requests run on, one lent to each request in flight."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

from anyio import to_thread
from fastapi import Depends, Header, Request

from ..service.api_keys import Principal, Unauthenticated
from ..service.exchange import Exchange


class FairLock:
    """A lock handed to waiters in arrival order (``threading.Lock`` lets a thread that
    just released it take it again, so under load some requests wait far too long)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._waiting: deque[threading.Event] = deque()
        self._held = False

    def __enter__(self) -> None:
        with self._guard:
            if not self._held:
                self._held = True
                return
            turn = threading.Event()
            self._waiting.append(turn)
        turn.wait()  # the releasing thread hands the lock over; _held stays True

    def __exit__(self, *exc: object) -> None:
        with self._guard:
            if self._waiting:
                self._waiting.popleft().set()
            else:
                self._held = False


class Exchanges:
    """The open exchanges a server works on, lent to one request at a time: a request
    holds its own connection (a SQLite connection serves one transaction at a time) for
    as long as it runs, whichever worker threads run its parts, and gives it back for the
    next request. So there are as many connections as requests run at once.

    ``opener`` opens one more exchange over the same ledger and config (see
    ``service.lifecycle.exchange_opener``); the server gives them one ``FairLock`` to queue
    their writes on: SQLite's busy handler waits by sleeping with back-off, which under
    64 concurrent writers costs far more than the writes (other processes still meet
    SQLite's own lock)."""

    def __init__(self, opener: Callable[[], Exchange]) -> None:
        self._opener = opener
        self._lock = threading.Lock()
        self._idle: list[Exchange] = []
        self._open: list[Exchange] = []

    def idle(self) -> Exchange | None:
        """An exchange no request holds, if there is one (never blocks)."""
        with self._lock:
            return self._idle.pop() if self._idle else None

    def open(self) -> Exchange:
        """One more exchange, for a request that found none idle."""
        ex = self._opener()
        with self._lock:
            self._open.append(ex)
        return ex

    def give_back(self, ex: Exchange) -> None:
        with self._lock:
            self._idle.append(ex)

    @contextmanager
    def lend(self) -> Iterator[Exchange]:
        """An exchange for this block only (from a worker thread: it may open one)."""
        ex = self.idle() or self.open()
        try:
            yield ex
        finally:
            self.give_back(ex)

    def close(self) -> None:
        with self._lock:
            for ex in self._open:
                ex.close()
            self._open.clear()
            self._idle.clear()


async def exchange(request: Request) -> AsyncIterator[Exchange]:
    """The request's own exchange, given back when the request is done."""
    exchanges: Exchanges = request.app.state.exchanges
    ex = exchanges.idle() or await to_thread.run_sync(exchanges.open)
    try:
        yield ex
    finally:
        exchanges.give_back(ex)


def principal(
    request: Request,
    authorization: Annotated[str | None, Header(
        description="Bearer atx_… (an agent's key or an admin key)")] = None,
) -> Principal:
    """The key's holder, or 401. Keys are looked up on every request, so a revoked key
    stops working at once."""
    if authorization is None or not authorization.startswith("Bearer "):
        raise Unauthenticated("a valid API key is needed: Authorization: Bearer atx_…")
    with request.app.state.exchanges.lend() as ex:
        return ex.keys.authenticate(authorization[7:].strip())


# scope="function": given back as the route returns, not when a streamed response ends.
ExchangeDep = Annotated[Exchange, Depends(exchange, scope="function")]
Caller = Annotated[Principal, Depends(principal)]
