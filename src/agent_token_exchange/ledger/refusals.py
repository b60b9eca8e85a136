"""Refusal events: what a rule said no to, kept beside the ledger (never money).

An agent hammering at its cap must not grow the log without bound: a refusal repeating
one already recorded (same agent, operation, code and pool) within ``COALESCE_US`` of
that row's first occurrence is folded into it. The row moves to the newest number with
its ``count`` raised and the latest time, message and amount, so the event stream (which
reads rows past a number) shows the repeat, with its count, and the log keeps one row.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass
from typing import TYPE_CHECKING, Any

from ..economy.records import RefusalEvent
from ..money import micro, tokens

if TYPE_CHECKING:
    from .store import Store

COALESCE_US = 60 * 1_000_000  # repeats within a minute of the first are one row


@dataclass(frozen=True)
class RefusalRow:
    """One refusal, or ``count`` identical ones from ``first_at`` to ``at``."""

    seq: int
    at: int
    agent: str | None
    pool_id: str | None
    operation: str
    code: str
    message: str
    amount: int | None
    count: int = 1
    first_at: int | None = None  # None: at

    @property
    def since(self) -> int:
        return self.at if self.first_at is None else self.first_at


_COLUMNS = "seq, at, agent, pool_id, operation, code, message, amount, count, first_at"


class Refusals:
    """The ``refusals`` table."""

    def __init__(self, db: Store) -> None:
        self._db = db

    def record(self, *, at: int, agent: str | None, pool_id: str | None, operation: str,
               code: str, message: str, amount: int | None) -> None:
        """Record a refusal, folded into the same refusal's row of the last minute."""
        self._db.note_event()
        # Take the chain head's lock first (held to commit), as every transfer does: a
        # refusal's number is then drawn in commit order, so an event stream that has sent
        # refusal n never meets a smaller number committed later by another process. It
        # also keeps two writers from folding the same repeat at once.
        self._db.chain_head()
        count, first_at = 1, at
        same = self._repeat_of(at, agent, pool_id, operation, code)
        if same is not None:
            # The row is deleted and written again under a new (the newest) number.
            self._db.execute("DELETE FROM refusals WHERE seq = ?", (same.seq,))
            count, first_at = same.count + 1, same.since
        self._db.execute(
            "INSERT INTO refusals (at, agent, pool_id, operation, code, message, amount, "
            "count, first_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (at, agent, pool_id, operation, code, message, amount, count, first_at),
        )

    def _repeat_of(self, at: int, agent: str | None, pool_id: str | None, operation: str,
                   code: str) -> RefusalRow | None:
        if agent is None:
            return None  # an operation no agent started: not coalesced
        row = self._db.one(
            f"SELECT {_COLUMNS} FROM refusals WHERE agent = ? AND operation = ? AND code = ? "
            "ORDER BY seq DESC LIMIT 1",
            (agent, operation, code),
        )
        if row is None:
            return None
        found = RefusalRow(*row)
        if found.pool_id != pool_id or not 0 <= at - found.since < COALESCE_US:
            return None
        return found

    def insert(self, row: RefusalRow) -> None:
        """Write a refusal keeping its number (an import; then ``restart_numbering``)."""
        values = astuple(row)[:-1] + (row.since,)
        self._db.execute(
            f"INSERT INTO refusals ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", values)

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
        """How many times ``agent`` was refused after ``since`` (a row's repeats all count
        when its latest is after ``since``)."""
        return self._db.number(
            "SELECT COALESCE(SUM(count), 0) FROM refusals WHERE agent = ? AND at > ?",
            (agent, since))

    def count(self) -> int:
        """How many rows the log holds (a row may stand for several refusals)."""
        return self._db.number("SELECT COUNT(*) FROM refusals")

    def last_seq(self) -> int:
        return self._db.number("SELECT COALESCE(MAX(seq), 0) FROM refusals")


def refusal_event(row: RefusalRow) -> RefusalEvent:
    """A stored refusal as the record the service returns and the export writes."""
    return RefusalEvent(row.seq, row.at, row.agent, row.pool_id, row.operation, row.code,
                        row.message, None if row.amount is None else tokens(row.amount),
                        row.count, row.since)


def refusal_row(event: RefusalEvent) -> RefusalRow:
    """A refusal record (from an import) as the row the ledger stores."""
    return RefusalRow(event.seq, event.at, event.agent, event.pool_id, event.operation,
                      event.code, event.message,
                      None if event.amount is None else micro(event.amount), event.count,
                      event.first_at)
