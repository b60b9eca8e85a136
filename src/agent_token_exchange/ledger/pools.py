"""Pools: the pool rows, their members' contributions, and each spend's credits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .store import Store


@dataclass(frozen=True)
class PoolRow:
    id: str
    number: int
    name: str
    creator: str
    min_contribution: int
    created_at: int
    dissolved_at: int | None


@dataclass(frozen=True)
class MemberRow:
    agent: str
    joined_at: int
    contributed: int


@dataclass(frozen=True)
class PoolMemberRow:
    """A member with its pool, as a ledger dump holds it."""

    pool_id: str
    agent: str
    joined_at: int
    contributed: int


@dataclass(frozen=True)
class PoolCreditRow:
    seq: int
    agent: str
    contributed: int
    credited: int


_COLUMNS = "id, number, name, creator, min_contribution, created_at, dissolved_at"


class Pools:
    """The ``pools``, ``pool_members`` and ``pool_credits`` tables."""

    def __init__(self, db: Store) -> None:
        self._db = db

    def next_number(self) -> int:
        return self._db.number("SELECT COALESCE(MAX(number), 0) + 1 FROM pools")

    def create(self, pool_id: str, number: int, name: str, creator: str,
               min_contribution: int, at: int) -> None:
        self._db.execute(
            f"INSERT INTO pools ({_COLUMNS.removesuffix(', dissolved_at')}) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (pool_id, number, name, creator, min_contribution, at),
        )

    def get(self, pool_id: str) -> PoolRow | None:
        row = self._db.one(f"SELECT {_COLUMNS} FROM pools WHERE id = ?", (pool_id,))
        return PoolRow(*row) if row else None

    def all(self) -> list[PoolRow]:
        rows = self._db.all(f"SELECT {_COLUMNS} FROM pools ORDER BY number")
        return [PoolRow(*row) for row in rows]

    def count(self) -> int:
        return self._db.number("SELECT COUNT(*) FROM pools")

    def mark_dissolved(self, pool_id: str, at: int) -> None:
        self._db.execute("UPDATE pools SET dissolved_at = ? WHERE id = ?", (at, pool_id))

    # -- members ------------------------------------------------------------------------

    def members(self, pool_id: str) -> list[MemberRow]:
        rows = self._db.all(
            "SELECT agent, joined_at, contributed FROM pool_members WHERE pool_id = ? "
            "ORDER BY joined_at, agent",
            (pool_id,),
        )
        return [MemberRow(*row) for row in rows]

    def all_members(self) -> list[PoolMemberRow]:
        """Every pool's members, by pool number, then joining time and name."""
        return [
            PoolMemberRow(p, a, int(j), int(c))
            for _, p, a, j, c in sorted(self._db.all(
                "SELECT p.number, m.pool_id, m.agent, m.joined_at, m.contributed "
                "FROM pool_members m JOIN pools p ON p.id = m.pool_id"),
                key=lambda row: (int(row[0]), int(row[3]), row[2]))
        ]

    def add_member(self, pool_id: str, agent: str, at: int) -> None:
        self._db.execute(
            "INSERT INTO pool_members (pool_id, agent, joined_at) VALUES (?, ?, ?) "
            "ON CONFLICT (pool_id, agent) DO NOTHING",
            (pool_id, agent, at),
        )

    def add_contribution(self, pool_id: str, agent: str, amount: int) -> None:
        self._db.execute(
            "UPDATE pool_members SET contributed = contributed + ? "
            "WHERE pool_id = ? AND agent = ?",
            (amount, pool_id, agent),
        )

    def set_contribution(self, pool_id: str, agent: str, contributed: int) -> None:
        self._db.execute(
            "UPDATE pool_members SET contributed = ? WHERE pool_id = ? AND agent = ?",
            (contributed, pool_id, agent),
        )

    # -- credits ------------------------------------------------------------------------

    def record_credit(self, seq: int, agent: str, contributed: int, credited: int) -> None:
        self._db.execute(
            "INSERT INTO pool_credits (transfer_seq, agent, contributed, credited) "
            "VALUES (?, ?, ?, ?)",
            (seq, agent, contributed, credited),
        )

    def credits(self, pool_id: str) -> list[PoolCreditRow]:
        """Every credit of a pool's spends, by transfer seq and agent."""
        return [
            PoolCreditRow(int(s), a, int(c), int(cr))
            for s, a, c, cr in self._db.all(
                "SELECT c.transfer_seq, c.agent, c.contributed, c.credited "
                "FROM pool_credits c JOIN transfers t ON t.seq = c.transfer_seq "
                "WHERE t.pool_id = ? ORDER BY c.transfer_seq, c.agent",
                (pool_id,),
            )
        ]

    def all_credits(self) -> list[PoolCreditRow]:
        """Every credit of every pool, by transfer seq and agent (by code point)."""
        return sorted((
            PoolCreditRow(int(s), a, int(c), int(cr))
            for s, a, c, cr in self._db.all(
                "SELECT transfer_seq, agent, contributed, credited FROM pool_credits")
        ), key=lambda c: (c.seq, c.agent))

