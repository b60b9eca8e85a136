"""Storage for the ledger: the schema, its migrations, and the stores that hold it."""

from .kinds import Kind
from .schema import SCHEMA_VERSION
from .sqlite import SQLiteStore
from .store import Account, Store, Transfer

__all__ = ["Account", "Kind", "SCHEMA_VERSION", "SQLiteStore", "Store", "Transfer"]
