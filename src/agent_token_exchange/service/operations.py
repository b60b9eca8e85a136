"""The machinery every write shares: one transaction per operation, the account locks,
retries after the database aborted a transaction, idempotency keys applied at most once,
and refusals rolled back yet recorded. Plus the name checks every role module uses.

``Core`` is the service's state (store, config, clock); ``earning``, ``spending``,
``pools``, ``queries`` and ``provision`` each hold one and ``exchange.Exchange`` is the
facade over them.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any, TypeVar

from ..clock import DAY_US, HOUR_US, Clock
from ..economy import rules
from ..economy.accounts import hold_account, wallet
from ..economy.validation import IDEMPOTENCY_KEY, NAME_PATTERN, POOL_ID
from ..errors import (
    InvalidInput,
    NotAllowed,
    refusal,
)
from ..money import tokens
from . import idempotency
from .parameters import EffectiveConfig
from .writer import MAX_ATTEMPTS, Job, Writer, apply_batch

if TYPE_CHECKING:
    from ..economy.config import Config
    from ..ledger import Store
    from ..ledger.pools import PoolRow

R = TypeVar("R")



class Core:
    """The store, config and clock one exchange runs on, and the one write path."""

    def __init__(self, store: Store, config: Config, clock: Clock, *,
                 write_lock: AbstractContextManager[object] | None = None,
                 writer: Writer | None = None) -> None:
        self.store = store
        # config.toml with the parameter changes governance enacted (service/parameters.py).
        self.parameters = EffectiveConfig(store, config)
        self.clock = clock
        # Held around each attempt of every write: a server's exchanges share one, so its
        # writers queue in arrival order before the database's own lock.
        self.write_lock: AbstractContextManager[object] = write_lock or nullcontext()
        # The process's writer, when this exchange queues its operations to one.
        self.writer = writer

    @property
    def config(self) -> Config:
        """The effective config: config.toml with enacted parameter changes over it."""
        return self.parameters.current()

    # -- the transaction around every write -------------------------------------------------

    def operate(
        self, operation: str, request: dict[str, Any], key: str | None,
        body: Callable[[int], R], record_type: type[R], *, agent: str | None = None,
        pool_id: str | None = None, amount: int | None = None,
        accounts: Iterable[str] | Callable[[], list[str]] = (), flushed: bool = True,
    ) -> R:
        """Run ``body`` in one transaction, applying each idempotency key at most once:
        a replay returns the first result marked ``replayed``, its balances read now.
        (``flushed=False`` commits without waiting for the disk, ``Store.unflushed``,
        unless a writer batches it: then it is flushed with its batch.)

        A refusal undoes whatever ``body`` wrote, then records the refusal event (and,
        under a key, the refusal as the key's first result) before it is raised.

        With a ``writer`` (a server's exchanges share one per process) the operation
        queues to it and is applied in a batch with others, one transaction and one fsync
        for all, decided in order (service/writer.py); without one it is a batch of one on
        this exchange's own connection. Either way the caller hears back only once the
        transaction holding it has committed.

        Concurrency: the transaction first locks ``accounts``, every agent, pool or contract
        account the operation may touch, in one fixed order (by name; a batch locks all its
        operations' accounts at once), so the checks that follow (balance, windows, pool
        members, the key) read state no other writer can change before this one commits.
        The system accounts (mint, inference) are never checked, so they are not locked up
        front: the store touches them only after the chain's head (ledger_head, locked at
        the transaction's first append), which comes after every account lock and is held
        to commit. So every lock is taken in one global order and no two operations wait on
        each other in a cycle. Where the database still aborts a transaction (a
        serialization failure, a deadlock it broke, two first uses of one key racing), the
        whole batch runs again; operations are idempotent, so a retry never applies
        anything twice."""
        # Only a keyed request is ever compared with an earlier one.
        request_hash = idempotency.request_hash(operation, request) if key is not None else ""
        job = Job(self, operation, request_hash, key, body, record_type, agent, pool_id,
                  amount, accounts)
        if self.writer is not None:  # batched: flushed with its batch
            result: R = self.writer.submit(job)
            return result
        with nullcontext() if flushed else self.store.unflushed():
            apply_batch(self.store, [job], hold=lambda: self.write_lock)
        outcome: R = job.outcome()
        return outcome

    def write(self, body: Callable[[int], R], *,
              lock: Callable[[], Iterable[str]] | None = None) -> R:
        """A write that is not an operation on money (an API key, a repair, an import, the
        accounts config adds): one transaction, first locking the accounts ``lock`` names
        (read inside it), run again if the database aborted it."""
        def once() -> R:
            with self.store.transaction():
                if lock is not None:
                    self.store.lock_accounts(lock())
                return body(self.clock.now_us())
        return self.retrying(once)

    def retrying(self, attempt_once: Callable[[], R]) -> R:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                with self.write_lock:
                    return attempt_once()
            except Exception as exc:
                if attempt == MAX_ATTEMPTS or not self.store.should_retry(exc):
                    raise
                import random

                time.sleep(random.uniform(0, 0.001 * attempt))  # de-synchronise the racers
        raise AssertionError("unreachable: the last attempt returns or raises")

    # -- names and figures every role checks ----------------------------------------------

    def agent(self, name: str) -> str:
        if not isinstance(name, str) or not re.match(NAME_PATTERN, name):
            raise InvalidInput(
                f"agent name {str(name)[:40]!r} is not valid: use lowercase letters, digits, "
                "- and _ (known agents: " + ", ".join(self.config.agents) + ")"
            )
        if name not in self.config.agents:
            raise InvalidInput(
                f"unknown agent {name!r} (known: {', '.join(self.config.agents)})"
            )
        return name

    def pool_id(self, pool_id: str) -> str:
        if not isinstance(pool_id, str) or not POOL_ID.match(pool_id):
            raise InvalidInput(f"pool id must look like pool-1, got {str(pool_id)[:40]!r}")
        if self.store.pools.get(pool_id) is None:
            raise InvalidInput(f"unknown pool {pool_id!r}; `token-exchange pool list` shows them")
        return pool_id

    def creator(self, pool_id: str) -> str:
        """Who created a pool (never changes, so it may be read outside a transaction):
        the agent a pool operation acts as when none is named."""
        pool = self.store.pools.get(pool_id)
        assert pool is not None
        return pool.creator

    def open_pool(self, pool_id: str) -> PoolRow:
        pool = self.store.pools.get(pool_id)
        assert pool is not None
        if pool.dissolved_at is not None:
            raise NotAllowed(f"{pool_id} is dissolved")
        return pool

    def balance(self, account: str) -> int:
        found = self.store.accounts.get(account)
        return found.balance if found else 0

    def tokens(self, agent: str) -> int:
        return self.balance(wallet(agent))

    def held(self, agent: str) -> int:
        """What the agent's open gateway reservations hold, with its draws on open
        pool-paid ones: counted as consumed by every window check until they settle
        (service/metering.py, service/pool_holds.py)."""
        return (self.balance(hold_account(wallet(agent)))
                + self.store.reservations.pool_draws_held(agent))

    def window_usage(
        self, agent: str, at: int, latest: tuple[int, int] | None = None
    ) -> tuple[int, int]:
        """(last 60 minutes, last 24 hours) of consumption ending at ``at``: exact, and two
        indexed lookups whatever the agent's history."""
        windows = self.store.windows
        _, cumulative = latest if latest is not None else windows.latest(agent)
        hourly = cumulative - windows.cumulative_at(agent, at - HOUR_US)
        daily = cumulative - windows.cumulative_at(agent, at - DAY_US)
        return hourly, daily


def client_key(key: str | None) -> str | None:
    """A client's idempotency key, checked and kept apart from outside identities."""
    if key is None:
        return None
    if not isinstance(key, str) or not IDEMPOTENCY_KEY.match(key):
        raise InvalidInput(
            "idempotency key must be 1-200 characters of letters, digits and ._:@/+=-"
        )
    return idempotency.client_key(key)


def raise_if_refused(decision: rules.SpendDecision) -> None:
    if decision.allowed:
        return
    raise refusal(decision.code or "refused", decision.message, used=tokens(decision.used),
                  limit=tokens(decision.limit), needed=tokens(decision.needed))


__all__ = ["MAX_ATTEMPTS", "Core", "client_key", "raise_if_refused"]
