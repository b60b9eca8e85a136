"""Consumption windows: each inference spend with the agent's cumulative consumption
after it, so a rolling window's usage is two indexed lookups (DESIGN.md, invariant 6)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .reservations import POOL_DRAWS_HELD

if TYPE_CHECKING:
    from .store import Store


_LATEST = ("SELECT {0} FROM consumption WHERE agent = ? "
           "ORDER BY at DESC, cumulative DESC LIMIT 1")
_AS_OF = ("SELECT cumulative FROM consumption WHERE agent = ? AND at <= ? "
          "ORDER BY at DESC, cumulative DESC LIMIT 1")
_POSITION = (f"SELECT (SELECT balance FROM accounts WHERE name = ?), ({_LATEST.format('at')}), "
             f"({_LATEST.format('cumulative')}), ({_AS_OF}), ({_AS_OF}), "
             "COALESCE((SELECT balance FROM accounts WHERE name = ?), 0) "
             f"+ ({POOL_DRAWS_HELD})")


class Windows:
    """The ``consumption`` table."""

    def __init__(self, db: Store) -> None:
        self._db = db

    def latest(self, agent: str) -> tuple[int, int]:
        """(time, cumulative) of the agent's latest consumption, or (0, 0)."""
        row = self._db.one(
            "SELECT at, cumulative FROM consumption WHERE agent = ? "
            "ORDER BY at DESC, cumulative DESC LIMIT 1",
            (agent,),
        )
        return (int(row[0]), int(row[1])) if row else (0, 0)

    def position(self, agent: str, account: str, hour_start: int, day_start: int,
                 hold: str | None = None) -> tuple[int, int, int, int, int, int]:
        """Everything a spend decides on, in one statement: (the account's balance, the
        time and cumulative of the agent's latest consumption, its cumulative as of
        ``hour_start`` and as of ``day_start``, and what the ``hold`` account holds (the
        agent's open gateway reservations) with its draws on open pool-paid ones), zeros
        where there is none."""
        row = self._db.one(_POSITION, (account, agent, agent, agent, hour_start, agent,
                                       day_start, hold or "", agent))
        assert row is not None
        balance, latest_at, latest_cum, hour_cum, day_cum, held = (int(v or 0) for v in row)
        return balance, latest_at, latest_cum, hour_cum, day_cum, held

    def cumulative_at(self, agent: str, at: int) -> int:
        """The agent's cumulative consumption as of time ``at`` (inclusive)."""
        return self._db.number(
            "SELECT cumulative FROM consumption WHERE agent = ? AND at <= ? "
            "ORDER BY at DESC, cumulative DESC LIMIT 1",
            (agent, at),
        )

    def record(self, agent: str, at: int, amount: int, cumulative: int,
               transfer_seq: int) -> None:
        self._db.execute(
            "INSERT INTO consumption (agent, at, cumulative, amount, transfer_seq) "
            "VALUES (?, ?, ?, ?, ?)",
            (agent, at, cumulative, amount, transfer_seq),
        )

    def since(self, agent: str, after: int, limit: int = 10_000) -> list[tuple[int, int]]:
        """(at, amount) of the agent's consumption after time ``after``, oldest first."""
        return [(int(a), int(b)) for a, b in self._db.all(
            "SELECT at, amount FROM consumption WHERE agent = ? AND at > ? "
            "ORDER BY at, cumulative LIMIT ?", (agent, after, limit))]

    def rows(self, agent: str) -> list[tuple[int, int, int]]:
        """(at, amount, cumulative) for every consumption of an agent, oldest first."""
        return [
            (int(a), int(b), int(c))
            for a, b, c in self._db.all(
                "SELECT at, amount, cumulative FROM consumption WHERE agent = ? "
                "ORDER BY cumulative",
                (agent,),
            )
        ]

    def rebuild(self, agent: str, spends: list[tuple[int, int, int]]) -> None:
        """Replace an agent's consumption rows with ones derived from its inference
        transfers, given as (seq, at, amount) in order (doctor --fix, an import)."""
        self._db.execute("DELETE FROM consumption WHERE agent = ?", (agent,))
        cumulative = 0
        for seq, at, amount in spends:
            cumulative += amount
            self.record(agent, at, amount, cumulative, seq)
