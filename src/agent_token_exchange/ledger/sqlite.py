"""The embedded default: SQLite in WAL mode, durable by default."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import IntegrityError
from .schema import MIGRATIONS, SCHEMA_VERSION, statements_for
from .store import Store


class SQLiteStore(Store):
    """One connection to ``path``. Writes run under BEGIN IMMEDIATE, so a check and the
    write it permits happen with no other writer in between.

    ``durable=True`` (the default) sets ``synchronous=FULL``: an acknowledged operation
    survives a crash or power loss. ``durable=False`` trades that for speed (tests)."""

    def __init__(self, path: Path, *, durable: bool = True, create: bool = False) -> None:
        self.path = path
        if not create and not path.exists():
            raise IntegrityError(f"{path}: exchange database is missing; run `token-exchange init`")
        try:
            self.conn = sqlite3.connect(
                path, isolation_level=None, timeout=30.0, check_same_thread=False
            )
            self.conn.execute("PRAGMA busy_timeout = 30000")
            mode = self.conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode != "wal":
                raise IntegrityError(f"{path}: could not switch the database to WAL mode")
            self.conn.execute(f"PRAGMA synchronous = {'FULL' if durable else 'OFF'}")
            self.conn.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise IntegrityError(
                f"{path}: not a readable exchange database ({exc}); restore it from a backup"
            ) from None
        self._in_transaction = False

    def _migrate(self) -> None:
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise IntegrityError(
                f"{self.path}: database schema v{version} is newer than this program "
                f"(v{SCHEMA_VERSION}); upgrade agent-token-exchange"
            )
        if version == SCHEMA_VERSION:
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have migrated while we waited for the lock.
            version = self.conn.execute("PRAGMA user_version").fetchone()[0]
            for migration in MIGRATIONS:
                if migration.number <= version:
                    continue
                for statement in statements_for(migration, "sqlite"):
                    self.conn.execute(statement)
                if migration.backfill is not None:
                    migration.backfill(self)
                self.conn.execute(f"PRAGMA user_version = {migration.number}")
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._in_transaction:
            raise RuntimeError("transactions do not nest")
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as exc:
            raise IntegrityError(f"{self.path}: cannot start a transaction ({exc})") from None
        self._in_transaction = True
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")
        finally:
            self._in_transaction = False

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """A consistent read of several queries (a deferred read transaction)."""
        if self._in_transaction:
            yield
            return
        self.conn.execute("BEGIN")
        self._in_transaction = True
        try:
            yield
        finally:
            self.conn.execute("COMMIT")
            self._in_transaction = False

    def close(self) -> None:
        self.conn.close()
