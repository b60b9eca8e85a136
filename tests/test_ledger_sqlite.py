"""The SQLite store: WAL, durable by default, versioned schema, append-only transfers."""

import sqlite3

import pytest

from agent_token_exchange import IntegrityError, open_exchange
from agent_token_exchange.ledger import SCHEMA_VERSION, SQLiteStore

pytestmark = pytest.mark.sqlite_only  # the PostgreSQL counterparts are in test_postgres.py


def test_wal_and_full_sync_by_default(home):
    """The SQLite ledger uses WAL with synchronous FULL and the current schema version by default.
    """
    with open_exchange(home) as ex:
        conn = ex.store.conn
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert ex.store.schema_version() == SCHEMA_VERSION


def test_a_newer_schema_is_refused_clearly(home):
    """A SQLite file with a newer schema version is refused as an IntegrityError saying so."""
    db = home / ".exchange" / "exchange.db"
    raw = sqlite3.connect(db)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    with pytest.raises(IntegrityError, match="newer than this program"):
        SQLiteStore(db)


def test_transfers_cannot_be_changed_or_deleted(home):
    """SQLite triggers refuse updating or deleting a transfer."""
    db = home / ".exchange" / "exchange.db"
    raw = sqlite3.connect(db)
    with pytest.raises(sqlite3.IntegrityError, match="immutable"):
        raw.execute("UPDATE transfers SET amount = 1 WHERE seq = 1")
    with pytest.raises(sqlite3.IntegrityError, match="permanent"):
        raw.execute("DELETE FROM transfers WHERE seq = 1")
    raw.close()


def test_missing_database_is_a_clear_error(home):
    """Opening a home whose database file is missing is an IntegrityError saying it is missing."""
    (home / ".exchange" / "exchange.db").unlink()
    with pytest.raises(IntegrityError, match="missing"):
        open_exchange(home)
