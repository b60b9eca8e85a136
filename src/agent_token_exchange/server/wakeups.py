"""Waking event streams: every commit that wrote a transfer or a refusal NOTIFYs a
PostgreSQL channel; each server process LISTENs to it in one thread and wakes its
streams (server/events.py), which otherwise poll."""

from __future__ import annotations

import asyncio
import contextlib
import threading

import anyio

from ..ledger import listen_for_commits


class Wakeups:
    """Streams waiting for something new, woken from any thread (``notify``)."""

    def __init__(self) -> None:
        self._waiting: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._lock = threading.Lock()

    async def wait(self, timeout: float) -> None:
        """Until ``notify`` is called or ``timeout`` seconds have passed."""
        entry = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._waiting.add(entry)
        try:
            with anyio.move_on_after(timeout):
                await entry[1].wait()
        finally:
            with self._lock:
                self._waiting.discard(entry)

    def notify(self) -> None:
        with self._lock:
            waiting = list(self._waiting)
        for loop, event in waiting:
            with contextlib.suppress(RuntimeError):  # that loop has closed
                loop.call_soon_threadsafe(event.set)


def listen_for_events(url: str, wakeups: Wakeups, stop: threading.Event) -> threading.Thread:
    """A thread that wakes this process's streams whenever any process commits a transfer
    or a refusal to the ledger at ``url`` (PostgreSQL's LISTEN/NOTIFY)."""
    return listen_for_commits(url, wakeups.notify, stop)


__all__ = ["Wakeups", "listen_for_events"]
