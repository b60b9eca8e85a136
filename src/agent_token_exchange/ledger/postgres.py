"""PostgreSQL, for a team whose agents share one exchange from several machines.

The SQL, the repositories and the migration runner are the shared ``Store``'s; this
module supplies what differs: the connection, the isolation levels, where the schema
version is kept, and the locks that make concurrent writers safe:

- every write transaction runs at READ COMMITTED and first locks the ``accounts`` rows
  it checks (wallets, pools, contracts), in name order (``lock_accounts``), so a check
  and the write it permits see no other writer in between;
- appending a transfer then updates the chain's head row (``ledger_head``, see
  ledger/chain.py), whose row lock, held to commit, makes sequence numbers gap-free, in
  commit order, and the hash chain linear; the system accounts (mint, inference), never
  checked, are only touched after it. One global order (accounts by name, then the head,
  then the system accounts) means no two writers ever wait on each other in a cycle. The
  price: appends, and so commits, are serial (see bench/bench_postgres.py);
- migrations run under an advisory lock, so many processes may open a new database at
  once.

Two exchanges may share a database in different schemas (``options=-csearch_path=NAME``
in the URL); the migration lock is keyed on the current schema.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import psycopg
from psycopg import errors as pg_errors

from ..errors import IntegrityError, InvalidInput
from .accounts import OVERFLOW_MESSAGE
from .store import Store
from .urls import redact

# The migrations' advisory lock (the first of pg_advisory_xact_lock's two int4 keys); the
# second key is hashtext(current_schema()), so exchanges in different schemas do not contend.
MIGRATION_LOCK = 0x41545801

# The channel a commit that wrote transfers or refusals notifies, so that every server
# process's event stream wakes at once (server/events.py listens to it).
EVENTS_CHANNEL = "atx_events"

# Errors after which the whole operation may simply run again (service/operations.py).
_RETRYABLE = (
    pg_errors.SerializationFailure,  # 40001
    pg_errors.DeadlockDetected,  # 40P01
    pg_errors.UniqueViolation,  # 23505: two first uses of one key or pool number raced
)


@lru_cache(maxsize=1024)
def to_pyformat(sql: str) -> str:
    """Translate the shared SQL's ``?`` placeholders to psycopg's ``%s`` (and escape
    literal ``%``). A ``?`` inside a quoted string literal is left alone."""
    out: list[str] = []
    quoted = False
    for ch in sql:
        if ch == "'":
            quoted = not quoted
        if ch == "%":
            out.append("%%")
        elif ch == "?" and not quoted:
            out.append("%s")
        else:
            out.append(ch)
    return "".join(out)


class PostgresStore(Store):
    """One connection to the database at ``url``."""

    dialect = "postgresql"
    CONNECT_TIMEOUT = 10  # seconds

    def __init__(self, url: str, *, create: bool = False,
                 connect_timeout: int = CONNECT_TIMEOUT) -> None:
        self.url = url
        self.where = redact(url)
        self._attach_repositories()
        try:
            self.conn = psycopg.connect(
                url, autocommit=True, connect_timeout=connect_timeout,
                application_name="agent-token-exchange",
            )
        except psycopg.Error as exc:
            raise IntegrityError(
                f"{self.where}: cannot connect to PostgreSQL ({_first_line(exc)})"
            ) from None
        self._in_transaction = False
        try:
            self.migrate(create=create)
        except psycopg.Error as exc:
            self.conn.close()
            raise IntegrityError(
                f"{self.where}: cannot open the exchange's schema ({_first_line(exc)})"
            ) from None
        except BaseException:
            self.conn.close()
            raise

    # -- schema ---------------------------------------------------------------------------

    def _stored_version(self) -> int:
        # A plain query of the catalog, not to_regclass(): that reads the session's cached
        # catalog, which may not yet show a table another process has just committed.
        row = self.one(
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables "
            "WHERE schemaname = current_schema() AND tablename = 'schema_version')"
        )
        if not row or not row[0]:
            return 0
        return self.number("SELECT version FROM schema_version")

    def _lock_migrations(self) -> None:
        self.execute("SELECT pg_advisory_xact_lock(?, hashtext(current_schema()))",
                     (MIGRATION_LOCK,))

    def _record_version(self, number: int) -> None:
        self.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        self.execute("DELETE FROM schema_version")
        self.execute("INSERT INTO schema_version (version) VALUES (?)", (number,))

    def _missing_message(self) -> str:
        return (f"{self.where}: no exchange in this database; run "
                "`token-exchange init --database URL`")

    # -- statements and transactions ------------------------------------------------------

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        try:
            if not params:
                return self.conn.execute(sql)
            return self.conn.execute(to_pyformat(sql), params)
        except pg_errors.NumericValueOutOfRange:
            raise InvalidInput(OVERFLOW_MESSAGE.format(account="an account")) from None
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            if isinstance(exc, _RETRYABLE):
                raise
            # The server went away or shut down: one clear line, not a driver traceback.
            raise IntegrityError(
                f"{self.where}: lost the connection to PostgreSQL ({_first_line(exc)})"
            ) from None

    # Writes at READ COMMITTED: each statement sees what was committed before it ran, so
    # reads after ``lock_accounts`` see the previous holder's writes. Reads: one snapshot.
    BEGIN_WRITE = "BEGIN ISOLATION LEVEL READ COMMITTED"
    BEGIN_READ = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
    LOCK_ROW = " FOR UPDATE"

    def _rollback(self) -> None:
        # A connection that is gone has been rolled back by the server already.
        with contextlib.suppress(psycopg.Error, IntegrityError):
            self.execute("ROLLBACK")

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def unflushed(self) -> Iterator[None]:
        """synchronous_commit off for this commit: the server acknowledges it before its
        WAL is flushed (a server crash may lose it, never tear it)."""
        self.execute("SET synchronous_commit = off")
        try:
            yield
        finally:
            with contextlib.suppress(psycopg.Error, IntegrityError):
                self.execute("RESET synchronous_commit")

    # -- locks ----------------------------------------------------------------------------

    def lock_accounts(self, names: Iterable[str]) -> None:
        """Lock these accounts' rows until the transaction ends, in name order."""
        held = self._txn.locked if self._txn is not None else set()
        wanted = sorted(set(names) - held)
        if wanted:
            held.update(wanted)
            self.execute(
                "SELECT name FROM accounts WHERE name = ANY(?) ORDER BY name FOR UPDATE",
                (wanted,),
            )

    def _announce(self) -> None:
        self.execute(f"NOTIFY {EVENTS_CHANNEL}")

    def should_retry(self, exc: BaseException) -> bool:
        return isinstance(exc, _RETRYABLE)

    def restart_numbering(self) -> None:
        """After an import wrote refusals, gateway reservations, unbondings and parameter
        changes with their own numbers, continue after them."""
        self.execute(
            "SELECT setval(pg_get_serial_sequence('refusals', 'seq'), MAX(seq)) FROM refusals "
            "HAVING COUNT(*) > 0"
        )
        self.execute(
            "SELECT setval(pg_get_serial_sequence('reservations', 'id'), MAX(id)) "
            "FROM reservations HAVING COUNT(*) > 0"
        )
        for table in ("unbondings", "parameter_changes"):  # staking and governance
            self.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), MAX(id)) "
                         f"FROM {table} HAVING COUNT(*) > 0")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


__all__ = ["PostgresStore", "to_pyformat"]


def listen_for_commits(url: str, on_commit: Callable[[], None],
                       stop: threading.Event) -> threading.Thread:
    """A thread that LISTENs on the events channel and calls ``on_commit`` whenever any
    process commits a transfer or a refusal (and once on each (re)connection, for what
    was committed meanwhile), until ``stop`` is set."""

    def run() -> None:
        while not stop.is_set():
            try:
                with psycopg.connect(url, autocommit=True,
                                     application_name="agent-token-exchange events") as conn:
                    conn.execute(f"LISTEN {EVENTS_CHANNEL}")
                    on_commit()
                    while not stop.is_set():
                        for _ in conn.notifies(timeout=0.5):
                            on_commit()
            except psycopg.Error:
                stop.wait(1.0)  # the server went away: streams still poll; try again

    thread = threading.Thread(target=run, name="atx-events", daemon=True)
    thread.start()
    return thread
