"""Who is calling: the bearer key on each request, checked against the key ring, and the
thread-local exchanges requests run on."""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable
from typing import Annotated, Any, cast

from fastapi import Depends, Header, Request

from ..clock import Clock
from ..ledger import open_store
from ..service.api_keys import KeyRing, Principal, Unauthenticated
from ..service.exchange import Exchange
from ..service.home import paths_for
from ..service.lifecycle import open_exchange


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
    """One open ``Exchange`` per worker thread. A SQLite connection serves one
    transaction at a time, and requests run concurrently in a thread pool; writers still
    serialise on the database's own lock (BEGIN IMMEDIATE)."""

    def __init__(self, opener: Callable[[], Exchange]) -> None:
        self._opener = opener
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: list[Exchange] = []
        self.write_lock = FairLock()

    @classmethod
    def at(cls, home: str | os.PathLike[str], clock: Clock | None = None) -> Exchanges:
        """Exchanges over the home's database, all with the config read once at start (so
        a config edited while serving cannot give two threads two economies)."""
        first = open_exchange(home, clock=clock)
        first.open_accounts()  # agents the config added since the last start
        paths = paths_for(home)
        database = paths.database_url() or paths.database  # PostgreSQL's URL, else SQLite

        def opener() -> Exchange:
            if not made:
                made.append(first)
                return first
            return Exchange(open_store(database), first.config, clock)

        made: list[Exchange] = []
        return cls(opener)

    def get(self) -> Exchange:
        ex: Exchange | None = getattr(self._local, "exchange", None)
        if ex is None:
            ex = self._opener()
            self._local.exchange = ex
            with self._lock:
                self._open.append(ex)
        return ex

    def close(self) -> None:
        with self._lock:
            for ex in self._open:
                ex.close()
            self._open.clear()


# Exchange methods that write. In one server they queue on a lock before the database's
# own: SQLite's busy handler waits by sleeping with back-off, which under 64 concurrent
# writers costs far more than the writes (other processes still meet SQLite's lock).
WRITES = frozenset({"commit", "award", "pay_issue", "llm", "pool_create", "pool_join",
                    "pool_contribute", "pool_spend", "pool_dissolve", "doctor"})


class _ThisThreadsExchange:
    """Stands for "the exchange of whichever thread uses me". FastAPI may resolve a
    dependency on one worker thread and run the route on another, so the route must not
    be handed another thread's connection."""

    def __init__(self, exchanges: Exchanges) -> None:
        self._exchanges = exchanges

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._exchanges.get(), name)
        if name not in WRITES:
            return found
        lock = self._exchanges.write_lock

        def write(*args: Any, **kwargs: Any) -> Any:
            with lock:
                return found(*args, **kwargs)

        return write


async def exchange(request: Request) -> Exchange:
    return cast(Exchange, _ThisThreadsExchange(request.app.state.exchanges))


def principal(
    request: Request,
    authorization: Annotated[str | None, Header(
        description="Bearer atx_… (an agent's key or an admin key)")] = None,
) -> Principal:
    """The key's holder, or 401. Keys are looked up on every request, so a revoked key
    stops working at once."""
    if authorization is None or not authorization.startswith("Bearer "):
        raise Unauthenticated("a valid API key is needed: Authorization: Bearer atx_…")
    ex = request.app.state.exchanges.get()
    return KeyRing(ex.store, ex.config, ex.clock).authenticate(authorization[7:].strip())


ExchangeDep = Annotated[Exchange, Depends(exchange)]
Caller = Annotated[Principal, Depends(principal)]
