"""Refusal events: what a rule said no to, kept beside the ledger (never money)."""

from __future__ import annotations

from dataclasses import astuple, dataclass
from typing import TYPE_CHECKING, Any

from ..economy.records import RefusalEvent
from ..money import micro, tokens

if TYPE_CHECKING:
    from .store import Store


@dataclass(frozen=True)
class RefusalRow:
    seq: int
    at: int
    agent: str | None
    pool_id: str | None
    operation: str
    code: str
    message: str
    amount: int | None


_COLUMNS = "seq, at, agent, pool_id, operation, code, message, amount"


class Refusals:
    """The ``refusals`` table."""

    def __init__(self, db: Store) -> None:
        self._db = db

    def record(self, *, at: int, agent: str | None, pool_id: str | None, operation: str,
               code: str, message: str, amount: int | None) -> None:
        self._db.execute(
            "INSERT INTO refusals (at, agent, pool_id, operation, code, message, amount) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (at, agent, pool_id, operation, code, message, amount),
        )

    def insert(self, row: RefusalRow) -> None:
        """Write a refusal keeping its number (an import; then ``restart_numbering``)."""
        self._db.execute(
            f"INSERT INTO refusals ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", astuple(row))

    def newest(self, agent: str | None = None, limit: int = 20) -> list[RefusalRow]:
        """The newest ``limit`` refusals (of ``agent``), newest first."""
        sql = f"SELECT {_COLUMNS} FROM refusals"
        params: tuple[Any, ...] = ()
        if agent is not None:
            sql, params = sql + " WHERE agent = ?", (agent,)
        return [RefusalRow(*row)
                for row in self._db.all(sql + " ORDER BY seq DESC LIMIT ?", (*params, limit))]

    def after(self, after_seq: int = 0, limit: int | None = None, *,
              agent: str | None = None) -> list[RefusalRow]:
        """Refusals with seq above ``after_seq`` (of ``agent``), oldest first."""
        sql = f"SELECT {_COLUMNS} FROM refusals WHERE seq > ?"
        params: tuple[Any, ...] = (after_seq,)
        if agent is not None:
            sql, params = sql + " AND agent = ?", (*params, agent)
        sql += " ORDER BY seq"
        if limit is not None:
            sql, params = sql + " LIMIT ?", (*params, limit)
        return [RefusalRow(*row) for row in self._db.all(sql, params)]

    def count_since(self, agent: str, since: int) -> int:
        return self._db.number(
            "SELECT COUNT(*) FROM refusals WHERE agent = ? AND at > ?", (agent, since))

    def count(self) -> int:
        return self._db.number("SELECT COUNT(*) FROM refusals")

    def last_seq(self) -> int:
        return self._db.number("SELECT COALESCE(MAX(seq), 0) FROM refusals")


def refusal_event(row: RefusalRow) -> RefusalEvent:
    """A stored refusal as the record the service returns and the export writes."""
    return RefusalEvent(row.seq, row.at, row.agent, row.pool_id, row.operation, row.code,
                        row.message, None if row.amount is None else tokens(row.amount))


def refusal_row(event: RefusalEvent) -> RefusalRow:
    """A refusal record (from an import) as the row the ledger stores."""
    return RefusalRow(event.seq, event.at, event.agent, event.pool_id, event.operation,
                      event.code, event.message,
                      None if event.amount is None else micro(event.amount))
