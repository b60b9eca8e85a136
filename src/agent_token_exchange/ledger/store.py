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
    store.reservations   the gateway's metered requests and holds (ledger/reservations.py)
    store.futures        futures on work                         (ledger/futures.py)
    store.loans          loan offers and loans                   (ledger/loans.py)
    store.governance     stakes, unbondings, proposals, votes, parameter changes
                         (ledger/governance.py)
    store.parameter_changes  the parameter changes alone, which every operation reads
                         (ledger/parameter_changes.py)

Repositories read and write rows and decide nothing; the service (``service/``) opens
every transaction and is the only writer. SQL is plain enough for SQLite and PostgreSQL;
placeholders are written ``?``. ``sqlite.py`` and ``postgres.py`` hold what differs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ..errors import IntegrityError
from .accounts import Accounts
from .chain import GENESIS
from .idempotency import IdempotencyRecords
from .migration import statements_for
from .schema import MIGRATIONS, SCHEMA_VERSION
from .transfers import Transfers

if TYPE_CHECKING:
    from .credentials import Credentials
    from .futures import Futures
    from .governance import Governance
    from .loans import Loans
    from .parameter_changes import ParameterChanges
    from .pools import Pools
    from .refusals import Refusals
    from .repair import Repair
    from .reservations import Reservations
    from .windows import Windows


class Repositories:
    """The repositories hung off a store: the ones every write uses made with it, the rest
    when first used."""

    def _attach_repositories(self) -> None:
        self.accounts = Accounts(self)
        self.transfers = Transfers(self)
        self.idempotency = IdempotencyRecords(self)

    # Repositories few operations need are loaded when first used (a quick command, the
    # post-commit hook, never pays for them).
    @cached_property
    def windows(self) -> Windows:
        from .windows import Windows

        return Windows(self)

    @cached_property
    def refusals(self) -> Refusals:
        from .refusals import Refusals

        return Refusals(self)

    @cached_property
    def credentials(self) -> Credentials:
        from .credentials import Credentials

        return Credentials(self)

    @cached_property
    def pools(self) -> Pools:
        from .pools import Pools

        return Pools(self)

    @cached_property
    def futures(self) -> Futures:
        from .futures import Futures

        return Futures(self)

    @cached_property
    def loans(self) -> Loans:
        from .loans import Loans

        return Loans(self)

    @cached_property
    def repair(self) -> Repair:
        from .repair import Repair

        return Repair(self)

    @cached_property
    def reservations(self) -> Reservations:
        from .reservations import Reservations

        return Reservations(self)

    @cached_property
    def governance(self) -> Governance:
        from .governance import Governance

        return Governance(self)

    @cached_property
    def parameter_changes(self) -> ParameterChanges:
        from .parameter_changes import ParameterChanges

        return ParameterChanges(self)


class Store(Repositories):
    """SQL shared by every backend. Subclasses provide the connection, the dialect's
    transactions and how the schema's version is kept."""

    dialect = "sqlite"
    where = ""  # how messages name the database (a path, a redacted URL)

    # Each backend names how it begins a write (serialised against other writers) and a
    # read (one consistent view), and how it rolls back.
    BEGIN_WRITE = "BEGIN"
    BEGIN_READ = "BEGIN"
    conn: Any  # the driver's connection, opened by the dialect
    _in_transaction = False
    # The chain's head is kept in the ``ledger_head`` row, read once per transaction and
    # written once, at its end: its lock orders appends across processes on a server
    # database, and everywhere it remembers the newest transfer, so an audit notices one
    # deleted from the end. (A dialect without the row would read the newest transfer.)
    HEAD_ROW = True
    LOCK_ROW = ""  # how a read locks the row it reads until commit (SQLite: it need not)
    _txn: _TransactionState | None = None

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
        self._txn = _TransactionState()
        try:
            yield
        except BaseException:
            self._rollback()
            raise
        else:
            try:
                self._write_head()
                if self._txn.events:
                    self._announce()
                self.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
        finally:
            self._in_transaction = False
            self._txn = None

    @contextmanager
    def sharing(self, other: Store) -> Iterator[None]:
        """Run this store's statements on ``other``'s connection, inside the transaction
        ``other`` has open (the process's writer applies a batch of operations, each
        written against its own exchange's store, in one transaction of its own)."""
        if other is self:
            yield
            return
        saved = (self.conn, self._in_transaction, self._txn)
        self.conn, self._in_transaction, self._txn = (
            other.conn, other._in_transaction, other._txn)
        try:
            yield
        finally:
            self.conn, self._in_transaction, self._txn = saved

    # -- the chain's head, once per transaction ---------------------------------------------

    def chain_head(self) -> tuple[int, str]:
        """(seq, hash) of the newest transfer, as this transaction will leave it so far.
        Read once per transaction (with the head row locked, where there is one) and then
        kept here, so a batch of appends reads and writes the head once."""
        txn = self._txn
        if txn is None:  # a statement on its own (a test, a repair): read it as it is
            return self._read_head(lock=False)
        if txn.head is None:
            txn.head = self._read_head(lock=True)
        return txn.head

    def advance_head(self, seq: int, digest: str) -> None:
        txn = self._txn
        if txn is None:
            self.execute("UPDATE ledger_head SET last_seq = ?, last_hash = ? WHERE id = 1",
                         (seq, digest))
            return
        txn.head, txn.head_moved, txn.events = (seq, digest), True, True

    def _read_head(self, *, lock: bool) -> tuple[int, str]:
        if self.HEAD_ROW:
            row = self.one("SELECT last_seq, last_hash FROM ledger_head WHERE id = 1"
                           + (self.LOCK_ROW if lock else ""))
            assert row is not None, "ledger_head is missing: the schema is older than v3"
            return int(row[0]), str(row[1])
        row = self.one("SELECT seq, hash FROM transfers ORDER BY seq DESC LIMIT 1")
        return (int(row[0]), str(row[1])) if row else (0, GENESIS)

    def note_event(self) -> None:
        """This transaction writes something event streams carry (a transfer, a refusal)."""
        if self._txn is not None:
            self._txn.events = True

    def _announce(self) -> None:
        """Tell other processes' event streams, at commit, that there is something new
        (PostgreSQL's NOTIFY; SQLite has no such channel: streams there poll)."""

    def _write_head(self) -> None:
        txn = self._txn
        if self.HEAD_ROW and txn is not None and txn.head_moved and txn.head is not None:
            self.execute("UPDATE ledger_head SET last_seq = ?, last_hash = ? WHERE id = 1",
                         txn.head)

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

    @contextmanager
    def unflushed(self) -> Iterator[None]:
        """Around a write transaction: commit without waiting for the disk. The write is
        atomic and survives the process crashing; only a power loss or OS crash before the
        next flushed commit (any ordinary one) can lose it. For the gateway's reservations,
        which a flushed capture follows within the request."""
        yield

    # Concurrency. SQLite's BEGIN IMMEDIATE already admits one writer at a time, so these
    # are no-ops there; PostgreSQL locks rows (see ledger/postgres.py).
    def lock_accounts(self, names: Iterable[str]) -> None:
        """Lock these accounts until the transaction ends, always in the same order."""

    def should_retry(self, exc: BaseException) -> bool:
        """Whether the database aborted a transaction that may simply run again."""
        return False

    # Savepoints let an operation undo its own writes on a refusal and still commit the
    # refusal event in the same transaction.
    # The transaction's own state (the head, the locks held) rolls back with them.
    def savepoint(self, name: str) -> None:
        self.execute(f"SAVEPOINT {name}")
        if self._txn is not None:
            self._txn.saved.append((self._txn.head, self._txn.head_moved, set(self._txn.locked)))

    def rollback_to(self, name: str) -> None:
        self.execute(f"ROLLBACK TO SAVEPOINT {name}")
        self.execute(f"RELEASE SAVEPOINT {name}")
        if self._txn is not None and self._txn.saved:
            self._txn.head, self._txn.head_moved, self._txn.locked = self._txn.saved.pop()

    def release(self, name: str) -> None:
        self.execute(f"RELEASE SAVEPOINT {name}")
        if self._txn is not None and self._txn.saved:
            self._txn.saved.pop()

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
                            (self.reservations.count, "gateway reservations"),
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


class _TransactionState:
    """What one write transaction has learnt so far: the chain's head (once read), whether
    it moved, the accounts already locked, and their values at each open savepoint."""

    __slots__ = ("events", "head", "head_moved", "locked", "saved")

    def __init__(self) -> None:
        self.head: tuple[int, str] | None = None
        self.head_moved = False
        self.events = False
        self.locked: set[str] = set()
        self.saved: list[tuple[tuple[int, str] | None, bool, set[str]]] = []


__all__ = ["Store"]
