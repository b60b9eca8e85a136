"""The embedded default: SQLite in WAL mode, durable by default. What differs from the
shared ``Store``: the connection, its pragmas, where the schema version is kept
(``PRAGMA user_version``) and how database errors read."""

from __future__ import annotations

import sqlite3
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

from ..errors import Busy, ExchangeError, IntegrityError
from .store import Store


class SQLiteStore(Store):
    """One connection to ``path``. Writes run under BEGIN IMMEDIATE, so a check and the
    write it permits happen with no other writer in between.

    ``durable=True`` (the default) sets ``synchronous=FULL``: an acknowledged operation
    survives a crash or power loss. ``durable=False`` trades that for speed (tests)."""

    BUSY_TIMEOUT = 30  # seconds a write waits for another writer before ``Busy``

    def __init__(self, path: Path, *, durable: bool = True, create: bool = False,
                 busy_timeout: int = BUSY_TIMEOUT) -> None:
        self.path = path
        self.where = str(path)
        self._attach_repositories()
        if not create and not path.exists():
            raise IntegrityError(f"{path}: exchange database is missing; run `token-exchange init`")
        try:
            self.conn = sqlite3.connect(
                path, isolation_level=None, timeout=busy_timeout, check_same_thread=False
            )
            self.conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            self._refuse_what_is_not_an_exchange(create)  # before anything writes to it
            mode = self._switch_to_wal()
            if mode != "wal":
                raise IntegrityError(f"{path}: could not switch the database to WAL mode")
            self.conn.execute(f"PRAGMA synchronous = {'FULL' if durable else 'OFF'}")
            self.conn.execute("PRAGMA foreign_keys = ON")
            self.migrate(create=create)
        except BaseException as exc:
            if hasattr(self, "conn"):
                self.conn.close()
            if isinstance(exc, sqlite3.DatabaseError):
                raise IntegrityError(
                    f"{path}: not a readable exchange database ({exc}); restore it from a backup"
                ) from None
            raise
        self._in_transaction = False

    def _switch_to_wal(self) -> str:
        """WAL mode, persistent once set. Changing the journal mode needs the database to
        itself, and SQLite may answer BUSY at once (without its busy handler) while another
        process opens the same new file, so wait for that here."""
        deadline = time.monotonic() + 30
        while True:
            try:
                return str(self.conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def _refuse_what_is_not_an_exchange(self, create: bool) -> None:
        # Both reads in one snapshot: another process may be creating the schema right now,
        # and its tables must not be mistaken for a foreign database's.
        self.conn.execute("BEGIN")
        try:
            version = self.conn.execute("PRAGMA user_version").fetchone()[0]
            tables = self.conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]
        finally:
            self.conn.execute("COMMIT")
        if version == 0:
            # A database no migration has touched: only `init` (or import) may fill it. An
            # existing file that is empty was most likely truncated; re-creating it would
            # mint fresh balances over a lost history.
            if tables:
                raise IntegrityError(f"{self.path}: not an exchange database (it holds other "
                                     "tables)")
            if not create:
                raise IntegrityError(f"{self.path}: the exchange database is empty (was it "
                                     "truncated?); restore it from a backup")

    def _stored_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def _record_version(self, number: int) -> None:
        self.execute(f"PRAGMA user_version = {int(number)}")

    def _missing_message(self) -> str:
        return (f"{self.path}: the exchange database is empty (was it truncated?); restore it "
                "from a backup")

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        try:
            return self.conn.execute(sql, params)
        except sqlite3.DatabaseError as exc:
            raise self._damaged(exc) from None

    def one(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        cursor = self.execute(sql, params)
        try:
            row: tuple[Any, ...] | None = cursor.fetchone()
        except sqlite3.DatabaseError as exc:
            raise self._damaged(exc) from None
        return row

    def all(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        cursor = self.execute(sql, params)
        try:
            return list(cursor.fetchall())
        except sqlite3.DatabaseError as exc:
            raise self._damaged(exc) from None

    def _damaged(self, exc: sqlite3.DatabaseError) -> ExchangeError:
        """A database error met mid-operation: corruption, a full disk, a lock held too
        long. One line for the user; the transaction is rolled back by the caller."""
        text = str(exc).lower()
        if isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text):
            return Busy(f"{self.path}: the database stayed busy with another writer for 30 s; "
                        "nothing was changed, try again")
        if isinstance(exc, sqlite3.IntegrityError):
            return IntegrityError(f"{self.path}: the database refused a write ({exc})")
        return IntegrityError(f"{self.path}: the database cannot be read or written ({exc}); "
                              "restore it from a backup or an export")

    BEGIN_WRITE = "BEGIN IMMEDIATE"  # take the write lock now: check and write as one

    def _rollback(self) -> None:
        # SQLite may already have rolled back (a full disk, a damaged page): that is fine.
        with suppress(sqlite3.DatabaseError):
            self.conn.execute("ROLLBACK")

    def close(self) -> None:
        self.conn.close()
