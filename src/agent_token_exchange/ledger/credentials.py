"""The HTTP service's credentials: rows of hashed API keys. Never money."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .store import Store


@dataclass(frozen=True)
class ApiKeyRow:
    key_id: str
    agent: str | None
    admin: bool
    label: str
    created_at: int
    revoked_at: int | None


_COLUMNS = "key_id, agent, admin, label, created_at, revoked_at"


class Credentials:
    """The ``api_keys`` table."""

    def __init__(self, db: Store) -> None:
        self._db = db

    def create(self, key_id: str, key_hash: str, agent: str | None, admin: bool, label: str,
               at: int) -> None:
        self._db.execute(
            "INSERT INTO api_keys (key_id, key_hash, agent, admin, label, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (key_id, key_hash, agent, 1 if admin else 0, label, at),
        )

    def by_hash(self, key_hash: str) -> ApiKeyRow | None:
        row = self._db.one(f"SELECT {_COLUMNS} FROM api_keys WHERE key_hash = ?", (key_hash,))
        return _api_key(row) if row else None

    def get(self, key_id: str) -> ApiKeyRow | None:
        row = self._db.one(f"SELECT {_COLUMNS} FROM api_keys WHERE key_id = ?", (key_id,))
        return _api_key(row) if row else None

    def all(self) -> list[ApiKeyRow]:
        return [_api_key(row)
                for row in self._db.all(f"SELECT {_COLUMNS} FROM api_keys ORDER BY number")]

    def revoke(self, key_id: str, at: int) -> None:
        self._db.execute(
            "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL",
            (at, key_id),
        )


def _api_key(row: tuple[Any, ...]) -> ApiKeyRow:
    key_id, agent, admin, label, created_at, revoked_at = row
    return ApiKeyRow(key_id, agent, bool(admin), label, created_at, revoked_at)
