"""Idempotency records: the first outcome of each keyed operation."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .store import Store


@dataclass(frozen=True)
class IdempotencyRow:
    key: str
    request_hash: str
    outcome: str
    result: dict[str, Any]
    first_seq: int | None
    created_at: int


class IdempotencyRecords:
    """The ``idempotency`` table."""

    def __init__(self, db: Store) -> None:
        self._db = db

    def get(self, key: str) -> IdempotencyRow | None:
        row = self._db.one(
            "SELECT key, request_hash, outcome, result, first_seq, created_at "
            "FROM idempotency WHERE key = ?", (key,))
        return _row(row) if row else None

    def save(self, key: str, request_hash: str, outcome: str, result: dict[str, Any],
             first_seq: int | None, at: int) -> None:
        self._db.execute(
            "INSERT INTO idempotency (key, request_hash, outcome, result, first_seq, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (key, request_hash, outcome, json.dumps(result, sort_keys=True), first_seq, at),
        )

    def outcomes(self) -> list[tuple[str, str, int | None]]:
        """(key, outcome, first seq) of every record, by key."""
        return [(k, o, s) for k, o, s in
                self._db.all("SELECT key, outcome, first_seq FROM idempotency ORDER BY key")]

    def all(self) -> list[IdempotencyRow]:
        """Every record, sorted by key (by code point, whatever the collation)."""
        return sorted((_row(row) for row in self._db.all(
            "SELECT key, request_hash, outcome, result, first_seq, created_at FROM idempotency")),
            key=lambda r: r.key)

    def count(self) -> int:
        return self._db.number("SELECT COUNT(*) FROM idempotency")


def _row(row: tuple[Any, ...]) -> IdempotencyRow:
    key, request_hash, outcome, result, first_seq, created_at = row
    return IdempotencyRow(key, request_hash, outcome, json.loads(result),
                          None if first_seq is None else int(first_seq), int(created_at))
