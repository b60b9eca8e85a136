"""The ledger's shared connection: transactions, snapshots, savepoints, locks and the one
migration runner, with one repository per aggregate hung off it.

    store.transfers      post, read, the chain's head           (ledger/transfers.py)
    store.accounts       cached balances and earned/spent        (ledger/accounts.py)
    store.pools          pools, members, credits                 (ledger/pools.py)
    store.windows        consumption behind the rate limits      (ledger/windows.py)
    store.idempotency    first outcomes under keys               (ledger/idempotency.py)
    store.refusals       refusal events                          (ledger/refusals.py)
    store.credentials    the HTTP service's API keys             (ledger/credentials.py)
    store.repair         figures derived from transfers, for doctor (ledger/repair.py)

Repositories read and write rows and decide nothing; the service (``service/``) opens
every transaction and is the only writer. SQL is plain enough for SQLite and PostgreSQL;
placeholders are written ``?``. ``sqlite.py`` and ``postgres.py`` hold what differs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from ..errors import IntegrityError
from .accounts import Accounts
from .credentials import Credentials
from .idempotency import IdempotencyRecords
from .pools import Pools
from .refusals import Refusals
from .repair import Repair
from .schema import MIGRATIONS, SCHEMA_VERSION, statements_for
from .transfers import Transfers
from .windows import Windows


class Store:
    """SQL shared by every backend. Subclasses provide the connection, the dialect's
    transactions and how the schema's version is kept."""

    dialect = "sqlite"
    where = ""  # how messages name the database (a path, a redacted URL)

    # Each backend names how it begins a write (serialised against other writers) and a
    # read (one consistent view), and how it rolls back.
    BEGIN_WRITE = "BEGIN"
    BEGIN_READ = "BEGIN"
    _in_transaction = False

    def _attach_repositories(self) -> None:
        self.accounts = Accounts(self)
        self.transfers = Transfers(self)
        self.pools = Pools(self)
        self.windows = Windows(self)
        self.idempotency = IdempotencyRecords(self)
        self.refusals = Refusals(self)
        self.credentials = Credentials(self)
        self.repair = Repair(self)

    # -- statements (for the repositories) -------------------------------------------------

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        raise NotImplementedError

    def one(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self.execute(sql, params).fetchone()
        return row

    def all(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return list(self.execute(sql, params).fetchall())

    def number(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        """The one integer a query answers (a COUNT, a MAX); 0 when it answers no row."""
        row = self.one(sql, params)
        return int(row[0]) if row else 0

    # -- transactions -----------------------------------------------------------------------

    def _rollback(self) -> None:
        """Roll back, tolerating a transaction the database has already ended."""
        raise NotImplementedError

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction: commit on success, roll back on any exception."""
        if self._in_transaction:
            raise RuntimeError("transactions do not nest")
        self.execute(self.BEGIN_WRITE)
        self._in_transaction = True
        try:
            yield
        except BaseException:
            self._rollback()
            raise
        else:
            try:
                self.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
        finally:
            self._in_transaction = False

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """A consistent read across several queries (inside a transaction: that one)."""
        if self._in_transaction:
            yield
            return
        self.execute(self.BEGIN_READ)
        self._in_transaction = True
        try:
            yield
        finally:
            self._in_transaction = False
            self._rollback()  # nothing was written: ending a read is a rollback

    def close(self) -> None:
        raise NotImplementedError

    # Concurrency. SQLite's BEGIN IMMEDIATE already admits one writer at a time, so these
    # are no-ops there; PostgreSQL locks rows (see ledger/postgres.py).
    def lock_accounts(self, names: Iterable[str]) -> None:
        """Lock these accounts until the transaction ends, always in the same order."""

    def should_retry(self, exc: BaseException) -> bool:
        """Whether the database aborted a transaction that may simply run again."""
        return False

    # Savepoints let an operation undo its own writes on a refusal and still commit the
    # refusal event in the same transaction.
    def savepoint(self, name: str) -> None:
        self.execute(f"SAVEPOINT {name}")

    def rollback_to(self, name: str) -> None:
        self.execute(f"ROLLBACK TO SAVEPOINT {name}")
        self.execute(f"RELEASE SAVEPOINT {name}")

    def release(self, name: str) -> None:
        self.execute(f"RELEASE SAVEPOINT {name}")

    def restart_numbering(self) -> None:
        """After rows were written with explicit ids (an import), make the database's own
        numbering continue after them. SQLite's AUTOINCREMENT does so by itself; a
        backend with identity columns overrides this for ``refusals.seq`` (transfers take
        their numbers from ``ledger_head``)."""

    def is_empty(self) -> tuple[bool, str]:
        """Whether nothing has been written yet, and if not, what is there."""
        for count, what in ((self.transfers.count, "transfers"), (self.pools.count, "pools"),
                            (self.refusals.count, "refusals"),
                            (self.idempotency.count, "idempotency keys"),
                            (self.accounts.count, "accounts")):
            found = count()
            if found:
                return False, f"{found} {what}"
        return True, ""

    # -- schema: the one migration runner ---------------------------------------------------

    def schema_version(self) -> int:
        return self._stored_version()

    def _stored_version(self) -> int:
        """The number of the last migration applied (0 for a new database)."""
        raise NotImplementedError

    def _record_version(self, number: int) -> None:
        raise NotImplementedError

    def _lock_migrations(self) -> None:
        """Keep other processes from migrating at the same time (inside the transaction)."""

    def _missing_message(self) -> str:
        return f"{self.where}: no exchange here; run `token-exchange init`"

    def _check_version(self, version: int, create: bool) -> None:
        if version > SCHEMA_VERSION:
            raise IntegrityError(
                f"{self.where}: database schema v{version} is newer than this program "
                f"(v{SCHEMA_VERSION}); upgrade agent-token-exchange"
            )
        if version == 0 and not create:
            raise IntegrityError(self._missing_message())

    def migrate(self, *, create: bool) -> None:
        """Apply every migration the database lacks, in order, in one transaction."""
        version = self._stored_version()
        if version == SCHEMA_VERSION:
            return
        self._check_version(version, create)
        with self.transaction():
            self._lock_migrations()
            # Another process may have migrated while we waited for the lock.
            version = self._stored_version()
            self._check_version(version, create)
            for migration in MIGRATIONS:
                if migration.number <= version:
                    continue
                for statement in statements_for(migration, self.dialect):
                    self.execute(statement)
                if migration.backfill is not None:
                    migration.backfill(self)
                self._record_version(migration.number)


__all__ = ["Store"]
