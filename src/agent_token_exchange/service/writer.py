"""Group commit: operations applied in batches, one transaction (and so one fsync) each.

Every write is an operation (``operations.Core.operate``) carried as a ``Job``.
``apply_batch`` applies a list of them in one transaction, deciding each in order, so
limits, reserves and idempotency stay exact: each sees what the ones before it wrote.
A job that is refused (or fails) in a batch of several is undone to its own savepoint
and changes nothing; its refusal is recorded, and the others go on. A lone job needs no
savepoint: a refusal rolls its transaction back and is recorded in a second one. Every
caller is answered only after the transaction holding its job has committed.

A ``Writer`` is one thread with its own connection that a process's exchanges queue
their jobs to (a server opens every exchange with one): while it commits a batch, the
next one gathers, so under load one fsync serves many requests. Without a writer (a
library caller, the CLI), ``Core.operate`` applies a batch of one on the caller's own
connection: the same path.

On a server database (PostgreSQL) the batch first locks every account its jobs name, in
one statement and one global order, then decides; the chain's head row is locked at the
first append and written once, at commit (ledger/store.py).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import Conflict, ExchangeError, Refused
from . import idempotency
from .idempotency import refusal_from_record, refusal_record
from .replays import as_replay

if TYPE_CHECKING:
    from ..ledger import Store
    from .operations import Core

# How often a batch runs again after the database aborted it (serialization failure, a
# deadlock it broke, two first uses of one key racing). Operations are idempotent.
MAX_ATTEMPTS = 20
# At most this many operations in one transaction: PostgreSQL keeps 64 subtransactions
# (one per savepoint that wrote) in shared memory and slows every session past that.
MAX_BATCH = {"sqlite": 256, "postgresql": 48}


@dataclass
class Job:
    """One operation waiting for its batch, and then its outcome."""

    core: Core
    operation: str
    request_hash: str
    key: str | None
    body: Callable[[int], Any]
    record_type: type
    agent: str | None
    pool_id: str | None
    amount: int | None
    accounts: Iterable[str] | Callable[[], list[str]]
    result: Any = None
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)
    # Called by the writer's thread once the job is answered, for a caller that waits
    # without blocking a thread (see ``JOB_WAITER``).
    notify: Callable[[], None] | None = None

    def outcome(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.result


# How ``Writer.submit`` waits for a job's batch. Unset, it blocks the calling thread. An
# adapter that runs writes on an event loop sets it (server/inline_writes.py) to a
# function ``wait(job, enqueue)`` that queues the job with ``enqueue`` and returns once
# the job is answered, letting the loop serve other requests meanwhile.
JOB_WAITER: ContextVar[Callable[[Job, Callable[[Job], None]], None] | None] = ContextVar(
    "JOB_WAITER", default=None)


class _LockSetMoved(Exception):
    """The accounts an operation must lock changed while it was locking them."""


class _Alone(Exception):
    """A lone job (no savepoint) was refused or failed: roll back, then settle it."""

    def __init__(self, error: BaseException, now: int) -> None:
        self.error, self.now = error, now


def apply_batch(store: Store, jobs: list[Job],
                hold: Callable[[], Any] | None = None) -> None:
    """Apply ``jobs`` in one transaction on ``store``'s connection and settle each (its
    result or its error). The whole batch runs again when the database aborted it.
    ``hold``, when given, is a context manager factory held around each attempt."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        for job in jobs:
            job.result = job.error = None
        try:
            if hold is None:
                _apply_once(store, jobs)
            else:
                with hold():
                    _apply_once(store, jobs)
            return
        except Exception as exc:  # noqa: BLE001 - every job must be answered
            if store.should_retry(exc) and attempt < MAX_ATTEMPTS:
                import random

                time.sleep(random.uniform(0, 0.001 * attempt))  # de-synchronise the racers
                continue
            for job in jobs:
                job.result, job.error = None, exc
            return


def _apply_once(store: Store, jobs: list[Job]) -> None:
    alone = len(jobs) == 1
    try:
        with store.transaction():
            # Every account the batch names, locked first in one global order (a no-op
            # on SQLite, whose writer already holds the database).
            store.lock_accounts({name for job in jobs if not callable(job.accounts)
                                 for name in job.accounts})
            for job in jobs:
                with job.core.store.sharing(store):
                    _decide(job, savepoint=not alone)
    except _Alone as lone:
        _settle_alone(store, jobs[0], lone)


def _decide(job: Job, *, savepoint: bool) -> None:
    """Decide one job inside the batch's transaction; its outcome goes on the job."""
    core = job.core
    store = core.store
    _lock(store, job.accounts)
    now = core.clock.now_us()
    key = job.key
    if key is not None:
        previous = store.idempotency.get(key)
        if previous is not None:
            _replay(job, previous)
            return
    if savepoint:
        store.savepoint("operation")
    try:
        result = job.body(now)
    except (Refused, ExchangeError) as exc:
        if not savepoint:
            raise _Alone(exc, now) from None
        store.rollback_to("operation")
        job.error = exc
        if isinstance(exc, Refused):
            _record_refusal(job, exc, now)
        return
    except Exception as exc:
        if not savepoint or store.should_retry(exc):
            raise  # the batch runs again (or every job hears of the failure)
        store.rollback_to("operation")
        job.error = exc
        return
    if savepoint:
        store.release("operation")
    if key is not None:
        store.idempotency.save(key, job.request_hash, "ok", idempotency.result_record(result),
                               getattr(result, "seq", None) or None, now)
    job.result = result


def _lock(store: Store, accounts: Iterable[str] | Callable[[], list[str]]) -> None:
    if not callable(accounts):
        store.lock_accounts(accounts)
        return
    # The set depends on data (a pool's contributors): lock what was read, and read again
    # until what is locked is what is read.
    for _ in range(MAX_ATTEMPTS):
        locked = accounts()
        store.lock_accounts(locked)
        if set(accounts()) == set(locked):
            return
    raise _LockSetMoved


def _settle_alone(store: Store, job: Job, lone: _Alone) -> None:
    """A lone job was refused or failed and its transaction rolled back: give it the
    error, and record a refusal (and its key's first outcome) in a transaction of its
    own. Should another writer have recorded the key meanwhile, that outcome stands."""
    job.error = lone.error
    if not isinstance(lone.error, Refused):
        return
    with store.transaction(), job.core.store.sharing(store):
        if job.key is not None:
            previous = store.idempotency.get(job.key)
            if previous is not None:
                job.error = None
                _replay(job, previous)
                return
        _record_refusal(job, lone.error, lone.now)


def _replay(job: Job, previous: Any) -> None:
    """The key's first outcome again: a conflict in plain words for another request, the
    first refusal, or the first record marked ``replayed`` with its balances read now."""
    if previous.request_hash != job.request_hash:
        job.error = Conflict(idempotency.conflict_message(job.key or "", previous.result))
    elif previous.outcome == "refused":
        job.error = refusal_from_record(previous.result)
    else:
        job.result = as_replay(job.core, idempotency.result_from_record(
            job.record_type, previous.result))


def _record_refusal(job: Job, exc: Refused, now: int) -> None:
    store = job.core.store
    store.refusals.record(at=now, agent=job.agent, pool_id=job.pool_id,
                          operation=job.operation, code=exc.code, message=exc.message,
                          amount=job.amount)
    if job.key is not None:
        store.idempotency.save(job.key, job.request_hash, "refused", refusal_record(exc),
                               None, now)


class Writer:
    """One thread per process applying queued jobs in batches on its own connection.

    ``submit`` blocks its caller until the job's batch has committed (or failed) and
    returns the job's own result or raises its own error."""

    def __init__(self, store: Store, *, max_batch: int | None = None) -> None:
        self.store = store
        self.max_batch = max_batch or MAX_BATCH.get(store.dialect, 64)
        self._queue: deque[Job] = deque()
        self._wake = threading.Condition()
        self._closing = False
        self.batches = 0  # how many transactions it committed (for tests and benchmarks)
        self.jobs = 0
        self._thread = threading.Thread(target=self._run, name="atx-writer", daemon=True)
        self._thread.start()

    def submit(self, job: Job) -> Any:
        wait = JOB_WAITER.get()
        if wait is None:
            self.enqueue(job)
            job.done.wait()
        else:
            wait(job, self.enqueue)
        return job.outcome()

    def enqueue(self, job: Job) -> None:
        """Queue ``job`` for the next batch without waiting for it."""
        with self._wake:
            if self._closing:
                raise RuntimeError("the exchange's writer is closed")
            self._queue.append(job)
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._queue and not self._closing:
                    self._wake.wait()
                if not self._queue:
                    return
                batch = [self._queue.popleft()
                         for _ in range(min(self.max_batch, len(self._queue)))]
            try:
                apply_batch(self.store, batch)
            finally:
                self.batches += 1
                self.jobs += len(batch)
                for job in batch:
                    if job.error is None and job.result is None:  # never left unanswered
                        job.error = RuntimeError("the exchange's writer stopped")
                    job.done.set()
                    if job.notify is not None:
                        job.notify()

    def close(self) -> None:
        """Finish what is queued, stop the thread, close the connection."""
        with self._wake:
            self._closing = True
            self._wake.notify()
        self._thread.join()
        self.store.close()


__all__ = ["JOB_WAITER", "MAX_ATTEMPTS", "Job", "Writer", "apply_batch"]
