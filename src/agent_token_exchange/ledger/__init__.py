"""Storage for the ledger: the schema and its one migration runner, the shared
connection (``Store``) with one repository per aggregate, the hash chain, and the dump.
Rows stay inside this package; the service turns them into records.

Each name below is imported when it is first used (PEP 562, as the package's own
``__init__`` does), so a quick command (the post-commit hook) that needs the SQLite store
does not load the dump, the credit market's images or PostgreSQL's driver.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..lazy import lazy_names
from .urls import is_postgres_url, redact

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable

    from ..economy.accounts import Kind
    from .dump import LedgerImage
    from .schema import SCHEMA_VERSION
    from .sqlite import SQLiteStore
    from .store import Store

# Where each lazily imported name lives.
_HOMES = {
    "Kind": "..economy.accounts",
    "LedgerImage": ".dump",
    "SCHEMA_VERSION": ".schema",
    "SQLiteStore": ".sqlite",
    "Store": ".store",
}


__getattr__, __dir__ = lazy_names(__name__, _HOMES, globals())


def open_store(location: str | Path, *, durable: bool = True, create: bool = False,
               wait_seconds: int | None = None) -> Store:
    """A ``postgresql://`` URL opens PostgreSQL; anything else is a SQLite file's path.
    ``create`` makes (and migrates) a database that has no exchange yet. ``wait_seconds``
    bounds the wait for the ledger (PostgreSQL's connect timeout, SQLite's busy timeout);
    None keeps each store's own."""
    if is_postgres_url(location):
        # Imported here so that SQLite users never pay for loading the driver.
        from .postgres import PostgresStore

        return PostgresStore(str(location), create=create,
                             connect_timeout=wait_seconds or PostgresStore.CONNECT_TIMEOUT)
    from .sqlite import SQLiteStore

    return SQLiteStore(Path(location), durable=durable, create=create,
                       busy_timeout=wait_seconds or SQLiteStore.BUSY_TIMEOUT)


def listen_for_commits(url: str, on_commit: Callable[[], None],
                       stop: threading.Event) -> threading.Thread:
    """Call ``on_commit`` whenever any process commits to the PostgreSQL ledger at ``url``
    (LISTEN/NOTIFY, in a thread of its own), until ``stop`` is set. The driver is loaded
    only here, when a server asks."""
    from .postgres import listen_for_commits as listen

    return listen(url, on_commit, stop)


__all__ = [
    "Kind", "LedgerImage", "SCHEMA_VERSION", "SQLiteStore", "Store", "is_postgres_url",
    "listen_for_commits", "open_store", "redact",
]
