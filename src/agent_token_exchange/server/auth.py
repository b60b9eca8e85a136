"""Who is calling: the bearer key on each request, checked against the key ring; and the
exchanges requests run on, one lent to each request in flight."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, TypeVar

import anyio
from anyio import to_thread
from fastapi import Depends, Header, Request

from ..ledger import is_postgres_url
from ..service.api_keys import Principal, Unauthenticated, hash_key
from ..service.exchange import Exchange
from .wakeups import Wakeups, listen_for_events


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


KEY_RECHECK_SECONDS = 1.0


class KeyCache:
    """Who each recently seen key belongs to, trusted for ``KEY_RECHECK_SECONDS`` and then
    looked up again. Keys are kept by their hash; only valid keys are kept."""

    def __init__(self, *, seconds: float = KEY_RECHECK_SECONDS) -> None:
        self.seconds = seconds
        self._entries: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Principal | None:
        entry = self._entries.get(hash_key(key))
        if entry is None or time.monotonic() - entry[0] >= self.seconds:
            return None
        return entry[1]

    def put(self, key: str, principal: Principal) -> None:
        with self._lock:
            if len(self._entries) > 10_000:  # many keys at once: start afresh
                self._entries.clear()
            self._entries[hash_key(key)] = (time.monotonic(), principal)


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
        self.keys = KeyCache()
        self.wakeups = Wakeups()
        self._stop_listening = threading.Event()
        location = getattr(opener, "location", None)
        # SQLite: a read is a lookup in a file this process has open (inline_writes.py).
        self.local = not is_postgres_url(location)
        if not self.local:
            listen_for_events(str(location), self.wakeups, self._stop_listening)

    async def authenticate(self, authorization: str | None) -> Principal:
        """The caller behind an ``Authorization: Bearer`` header, or Unauthenticated. A key
        seen in the last ``KEY_RECHECK_SECONDS`` is answered from memory; otherwise it is
        looked up (in a worker thread), so a revoked key stops working within that time
        in every process."""
        if authorization is None or not authorization.startswith("Bearer "):
            raise Unauthenticated("a valid API key is needed: Authorization: Bearer atx_…")
        key = authorization[7:].strip()
        found = self.keys.get(key)
        if found is None:
            found = await to_thread.run_sync(self._look_up, key)
            self.keys.put(key, found)
        return found

    def _look_up(self, key: str) -> Principal:
        with self.lend() as ex:
            return ex.keys.authenticate(key)

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
        self._stop_listening.set()
        close_opener = getattr(self._opener, "close", None)
        if close_opener is not None:  # the writer the opener's exchanges share
            close_opener()


async def exchange(request: Request) -> AsyncIterator[Exchange]:
    """The request's own exchange, given back when the request is done."""
    exchanges: Exchanges = request.app.state.exchanges
    ex = exchanges.idle() or await to_thread.run_sync(exchanges.open)
    try:
        yield ex
    finally:
        exchanges.give_back(ex)


async def principal(
    request: Request,
    authorization: Annotated[str | None, Header(
        description="Bearer atx_… (an agent's key or an admin key)")] = None,
) -> Principal:
    """The key's holder, or 401. A key is looked up again at least every second, so a
    revoked key stops working within a second in every process (``KeyCache``)."""
    exchanges: Exchanges = request.app.state.exchanges
    return await exchanges.authenticate(authorization)


async def run_write(request: Request, call: Callable[[], T]) -> T:
    """Run a write (one ``Exchange`` call, which queues to the process's writer and waits
    for its batch to commit) off the event loop, on a pool of threads of its own: so
    writes waiting for their batch never hold the threads reads run on."""
    loop = id(asyncio.get_running_loop())
    state = request.app.state
    limiter = getattr(state, "write_threads", None)
    if limiter is None or limiter[0] != loop:  # one pool per event loop the app runs on
        limiter = state.write_threads = (loop, anyio.CapacityLimiter(WRITE_THREADS))
    return await to_thread.run_sync(call, limiter=limiter[1])


# Enough threads that every request in flight can wait for its batch at once.
WRITE_THREADS = 512


T = TypeVar("T")

# scope="function": given back as the route returns, not when a streamed response ends.
ExchangeDep = Annotated[Exchange, Depends(exchange, scope="function")]
Caller = Annotated[Principal, Depends(principal)]
