"""Who is calling: the bearer key on each request, checked against the key ring, and the
thread-local exchanges requests run on."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Header, Request

from ..clock import Clock
from ..exchange import Exchange, open_exchange
from ..keys import KeyRing, Principal, Unauthenticated


class Exchanges:
    """One open ``Exchange`` per worker thread. A SQLite connection serves one
    transaction at a time, and requests run concurrently in a thread pool; writers still
    serialise on the database's own lock (BEGIN IMMEDIATE)."""

    def __init__(self, opener: Callable[[], Exchange]) -> None:
        self._opener = opener
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: list[Exchange] = []

    @classmethod
    def at(cls, home: str | os.PathLike[str], clock: Clock | None = None) -> Exchanges:
        return cls(lambda: open_exchange(home, clock=clock))

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


def exchange(request: Request) -> Exchange:
    exchanges: Exchanges = request.app.state.exchanges
    return exchanges.get()


def principal(
    request: Request,
    authorization: Annotated[str | None, Header(
        description="Bearer atx_… (an agent's key or an admin key)")] = None,
) -> Principal:
    """The key's holder, or 401. Keys are looked up on every request, so a revoked key
    stops working at once."""
    if authorization is None or not authorization.startswith("Bearer "):
        raise Unauthenticated("a valid API key is needed: Authorization: Bearer atx_…")
    ex = exchange(request)
    return KeyRing(ex.store, ex.config, ex.clock).authenticate(authorization[7:].strip())


ExchangeDep = Annotated[Exchange, Depends(exchange)]
Caller = Annotated[Principal, Depends(principal)]
