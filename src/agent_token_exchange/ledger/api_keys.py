"""The HTTP service's credentials: rows of hashed API keys. Never money. A part of
``Store``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ApiKeyRow:
    key_id: str
    agent: str | None
    admin: bool
    label: str
    created_at: int
    revoked_at: int | None


class ApiKeyQueries:
    """API-key rows. Mixed into Store, whose ``_one``/``_all``/``_execute`` they use."""

    def _one(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        raise NotImplementedError

    def _all(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        raise NotImplementedError

    _KEY_COLUMNS = "key_id, agent, admin, label, created_at, revoked_at"

    def create_api_key(
        self, key_id: str, key_hash: str, agent: str | None, admin: bool, label: str, at: int
    ) -> None:
        self._execute(
            "INSERT INTO api_keys (key_id, key_hash, agent, admin, label, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (key_id, key_hash, agent, 1 if admin else 0, label, at),
        )

    def api_key_by_hash(self, key_hash: str) -> ApiKeyRow | None:
        row = self._one(
            f"SELECT {self._KEY_COLUMNS} FROM api_keys WHERE key_hash = ?", (key_hash,)
        )
        return _api_key(row) if row else None

    def api_key(self, key_id: str) -> ApiKeyRow | None:
        row = self._one(f"SELECT {self._KEY_COLUMNS} FROM api_keys WHERE key_id = ?", (key_id,))
        return _api_key(row) if row else None

    def api_keys(self) -> list[ApiKeyRow]:
        rows = self._all(f"SELECT {self._KEY_COLUMNS} FROM api_keys ORDER BY number")
        return [_api_key(row) for row in rows]

    def revoke_api_key(self, key_id: str, at: int) -> None:
        self._execute(
            "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL",
            (at, key_id),
        )


def _api_key(row: tuple[Any, ...]) -> ApiKeyRow:
    key_id, agent, admin, label, created_at, revoked_at = row
    return ApiKeyRow(key_id, agent, bool(admin), label, created_at, revoked_at)
