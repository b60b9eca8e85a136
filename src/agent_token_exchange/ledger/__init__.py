"""Storage for the ledger: the schema, its migrations, and the stores that hold it."""

from __future__ import annotations

from pathlib import Path

from ..economy.accounts import Kind
from .schema import SCHEMA_VERSION
from .sqlite import SQLiteStore
from .store import Account, Store, Transfer
from .urls import is_postgres_url, redact


def open_store(location: str | Path, *, durable: bool = True, create: bool = False) -> Store:
    """A ``postgresql://`` URL opens PostgreSQL; anything else is a SQLite file's path.
    ``create`` makes (and migrates) a database that has no exchange yet."""
    if is_postgres_url(location):
        # Imported here so that SQLite users never pay for loading the driver.
        from .postgres import PostgresStore

        return PostgresStore(str(location), create=create)
    return SQLiteStore(Path(location), durable=durable, create=create)


__all__ = [
    "Account", "Kind", "SCHEMA_VERSION", "SQLiteStore", "Store", "Transfer", "is_postgres_url",
    "open_store", "redact",
]
