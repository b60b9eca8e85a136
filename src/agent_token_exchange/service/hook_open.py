"""Opening an exchange for the post-commit hook: fast and bounded.

A hook runs on every ``git commit``, so it reads the config from its validated cache
(``economy/config_cache.py``: no pydantic) and waits at most ``wait_seconds`` for the
ledger (SQLite's busy timeout, PostgreSQL's connect timeout); the CLI and the server keep
their longer waits and full validation.
"""

from __future__ import annotations

from ..economy.config_cache import load_fast
from ..ledger import SQLiteStore, Store, is_postgres_url
from .exchange import Exchange
from .home import ExchangePaths


def open_for_hook(paths: ExchangePaths, wait_seconds: int) -> Exchange:
    """The home's exchange, opened to wait at most ``wait_seconds`` for its ledger."""
    url = paths.checked_database_url()
    config = load_fast(paths.config)
    store: Store
    if url is None:
        store = SQLiteStore(paths.database)
        store.conn.execute(f"PRAGMA busy_timeout = {wait_seconds * 1000}")
    else:
        from ..ledger.postgres import PostgresStore

        if not is_postgres_url(url):
            raise ValueError(f"not a PostgreSQL URL: {url}")
        store = PostgresStore(url, connect_timeout=wait_seconds)
    try:
        return Exchange(store, config)
    except BaseException:
        store.close()
        raise


__all__ = ["open_for_hook"]
