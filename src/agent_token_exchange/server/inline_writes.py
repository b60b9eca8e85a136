"""Writes run on the event loop, waiting for their batch without holding a thread.

An exchange call is synchronous: it validates, queues its operation to the process's
writer (service/writer.py) and waits for the batch that commits it. Run in a worker
thread, each write costs two thread hand-offs (loop to worker, worker back to loop) on
top of the writer's own. ``run_inline`` instead runs the call in a greenlet on the loop's
own thread; when the call reaches ``Writer.submit`` the greenlet queues the job and
switches back to the loop, which awaits the writer's answer like any other I/O and then
resumes the call where it stopped. This is how SQLAlchemy's asyncio layer runs its
synchronous core (``greenlet_spawn``).

Only for short calls whose other reads are local: on SQLite a read is a lookup in a file
the process has open, microseconds, and the loop may do it; on PostgreSQL every read is a
round trip, so there ``run_short_write`` keeps to a worker thread. The spend and the
gateway's reserve and settle use it; every other write keeps ``run_write``'s worker
threads (a doctor run or an import must never hold the loop).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import suppress
from typing import TypeVar

import anyio
from anyio import to_thread
from greenlet import getcurrent, greenlet

from ..service.writer import JOB_WAITER, Job

T = TypeVar("T")


def _hand_to_loop(job: Job, enqueue: Callable[[Job], None]) -> None:
    """In the call's greenlet: give the job to the loop, which queues it and resumes this
    greenlet once the job is answered."""
    parent = getcurrent().parent
    assert parent is not None  # the call always runs in a greenlet of run_inline
    parent.switch((job, enqueue))


async def run_inline(call: Callable[[], T]) -> T:
    """``call()`` on this loop's thread; its writes wait for their batch asynchronously."""
    loop = asyncio.get_running_loop()

    def body() -> T:
        JOB_WAITER.set(_hand_to_loop)  # the greenlet's own context: only this call's
        return call()

    call_greenlet = greenlet(body)
    cancelled: BaseException | None = None
    step = call_greenlet.switch()
    while not call_greenlet.dead:
        job, enqueue = step
        answered: asyncio.Future[None] = loop.create_future()
        job.notify = _notifier(loop, answered)
        enqueue(job)
        cancelled = await _until_answered(answered) or cancelled
        step = call_greenlet.switch()
    if cancelled is not None:
        raise cancelled
    result: T = step
    return result


async def _until_answered(answered: asyncio.Future[None]) -> BaseException | None:
    """Wait for a queued job's answer even when the request is cancelled meanwhile (the
    client went away): its call must still run to its end, and it is one batch away.
    Returns the cancellation, if one came, for the caller to raise once the call is done."""
    cancelled = None
    with anyio.CancelScope(shield=True):  # against anyio's cancel scopes (Starlette's)
        while not answered.done():
            try:
                await asyncio.shield(answered)  # against Task.cancel(): the future lives on
            except asyncio.CancelledError as exc:
                cancelled = exc
    return cancelled


async def run_short_write(local: bool, call: Callable[[], T]) -> T:
    """``call()`` inline on the loop where the exchange's reads are ``local`` (SQLite),
    else in a worker thread."""
    if local:
        return await run_inline(call)
    return await to_thread.run_sync(call)


def _notifier(loop: asyncio.AbstractEventLoop,
              answered: asyncio.Future[None]) -> Callable[[], None]:
    def notify() -> None:  # on the writer's thread
        with suppress(RuntimeError):  # the loop closed (the server stopped): nobody waits
            loop.call_soon_threadsafe(_answer, answered)
    return notify


def _answer(answered: asyncio.Future[None]) -> None:
    if not answered.done():
        answered.set_result(None)
