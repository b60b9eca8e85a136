"""Pools: the pool rows, their invites, their members' contributions and stakes, and each
spend's draws (``pool_credits``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..economy.accounts import pool_account
from ..economy.pool_rules import stakes_from_contributions

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
    is_open: bool = False  # anyone may join; else only the creator's invitees


@dataclass(frozen=True)
class MemberRow:
    """A member of one pool: ``contributed`` is all it ever put in, ``stake`` what of the
    pool's balance is its own; ``left_at`` is set once it has left."""

    agent: str
    joined_at: int
    contributed: int
    stake: int
    left_at: int | None


@dataclass(frozen=True)
class PoolMemberRow:
    """A member with its pool, as a ledger dump holds it."""

    pool_id: str
    agent: str
    joined_at: int
    contributed: int
    stake: int = 0
    left_at: int | None = None


@dataclass(frozen=True)
class PoolInviteRow:
    """An invitation not yet taken up (joining uses it)."""

    pool_id: str
    agent: str
    invited_at: int


@dataclass(frozen=True)
class PoolCreditRow:
    """One member's part of one pool spend: ``stake`` is what it held before the spend
    (for spends before the stake rules, its lifetime contribution) and ``credited`` what
    the spend drew from it. ``consumed`` draws counted as the member's own consumption."""

    seq: int
    agent: str
    stake: int
    credited: int
    consumed: bool = False


_COLUMNS = "id, number, name, creator, min_contribution, created_at, dissolved_at, is_open"
_MEMBER_COLUMNS = "agent, joined_at, contributed, stake, left_at"


# The pools an agent's key may read (service/access.py): open ones, those it belongs or
# belonged to, and those it is invited to. Takes the agent twice.
_VISIBLE = ("(p.is_open = 1 "
            "OR EXISTS (SELECT 1 FROM pool_members m WHERE m.pool_id = p.id AND m.agent = ?) "
            "OR EXISTS (SELECT 1 FROM pool_invites i WHERE i.pool_id = p.id AND i.agent = ?))")


def _pool(row: tuple) -> PoolRow:
    *head, is_open = row
    return PoolRow(*head, is_open=bool(is_open))


class Pools:
    """The ``pools``, ``pool_invites``, ``pool_members`` and ``pool_credits`` tables."""

    def __init__(self, db: Store) -> None:
        self._db = db

    def next_number(self) -> int:
        return self._db.number("SELECT COALESCE(MAX(number), 0) + 1 FROM pools")

    def create(self, pool_id: str, number: int, name: str, creator: str,
               min_contribution: int, at: int, *, is_open: bool = False) -> None:
        self._db.execute(
            "INSERT INTO pools (id, number, name, creator, min_contribution, created_at, "
            "is_open) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (pool_id, number, name, creator, min_contribution, at, int(is_open)),
        )

    def get(self, pool_id: str) -> PoolRow | None:
        row = self._db.one(f"SELECT {_COLUMNS} FROM pools WHERE id = ?", (pool_id,))
        return _pool(row) if row else None

    def all(self) -> list[PoolRow]:
        rows = self._db.all(f"SELECT {_COLUMNS} FROM pools ORDER BY number")
        return [_pool(row) for row in rows]

    def visible_to(self, agent: str) -> list[PoolRow]:
        """The pools ``agent`` may see (``_VISIBLE``), by number: chosen in SQL."""
        rows = self._db.all(f"SELECT {_COLUMNS} FROM pools p WHERE {_VISIBLE} ORDER BY number",
                            (agent, agent))
        return [_pool(row) for row in rows]

    def is_visible(self, pool_id: str, agent: str) -> bool:
        row = self._db.one(f"SELECT 1 FROM pools p WHERE p.id = ? AND {_VISIBLE}",
                           (pool_id, agent, agent))
        return row is not None

    def count(self) -> int:
        return self._db.number("SELECT COUNT(*) FROM pools")

    def mark_dissolved(self, pool_id: str, at: int) -> None:
        self._db.execute("UPDATE pools SET dissolved_at = ? WHERE id = ?", (at, pool_id))

    # -- invites ------------------------------------------------------------------------

    def invite(self, pool_id: str, agent: str, at: int) -> None:
        self._db.execute(
            "INSERT INTO pool_invites (pool_id, agent, invited_at) VALUES (?, ?, ?) "
            "ON CONFLICT (pool_id, agent) DO NOTHING",
            (pool_id, agent, at),
        )

    def invited(self, pool_id: str) -> list[str]:
        return [a for (a,) in self._db.all(
            "SELECT agent FROM pool_invites WHERE pool_id = ? ORDER BY invited_at, agent",
            (pool_id,))]

    def take_invite(self, pool_id: str, agent: str) -> None:
        self._db.execute("DELETE FROM pool_invites WHERE pool_id = ? AND agent = ?",
                         (pool_id, agent))

    def clear_invites(self, pool_id: str) -> None:
        self._db.execute("DELETE FROM pool_invites WHERE pool_id = ?", (pool_id,))

    def all_invites(self) -> list[PoolInviteRow]:
        """Every open invitation, by pool number, then time and name."""
        return [PoolInviteRow(p, a, int(at)) for _, p, a, at in sorted(self._db.all(
            "SELECT p.number, i.pool_id, i.agent, i.invited_at "
            "FROM pool_invites i JOIN pools p ON p.id = i.pool_id"),
            key=lambda row: (int(row[0]), int(row[3]), row[2]))]

    # -- members ------------------------------------------------------------------------

    def members(self, pool_id: str, *, with_former: bool = False) -> list[MemberRow]:
        """The pool's members by joining time and name; with ``with_former`` those who
        left too."""
        current = "" if with_former else " AND left_at IS NULL"
        rows = self._db.all(
            f"SELECT {_MEMBER_COLUMNS} FROM pool_members WHERE pool_id = ?{current} "
            "ORDER BY joined_at, agent",
            (pool_id,),
        )
        return [MemberRow(a, int(j), int(c), int(s), None if left is None else int(left))
                for a, j, c, s, left in rows]

    def all_members(self) -> list[PoolMemberRow]:
        """Every pool's members (former ones too), by pool number, then joining time and
        name."""
        return [
            PoolMemberRow(p, a, int(j), int(c), int(s), None if left is None else int(left))
            for _, p, a, j, c, s, left in sorted(self._db.all(
                "SELECT p.number, m.pool_id, m.agent, m.joined_at, m.contributed, m.stake, "
                "m.left_at FROM pool_members m JOIN pools p ON p.id = m.pool_id"),
                key=lambda row: (int(row[0]), int(row[3]), row[2]))
        ]

    def add_member(self, pool_id: str, agent: str, at: int) -> None:
        """Make ``agent`` a member (again, if it had left: same row, contributions kept)."""
        self._db.execute(
            "INSERT INTO pool_members (pool_id, agent, joined_at) VALUES (?, ?, ?) "
            "ON CONFLICT (pool_id, agent) DO UPDATE SET left_at = NULL",
            (pool_id, agent, at),
        )

    def restore_member(self, row: PoolMemberRow) -> None:
        """Write a member row as a dump holds it (an import)."""
        self._db.execute(
            "INSERT INTO pool_members (pool_id, agent, joined_at, contributed, stake, left_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (row.pool_id, row.agent, row.joined_at, row.contributed, row.stake, row.left_at),
        )

    def mark_left(self, pool_id: str, agent: str, at: int) -> None:
        self._db.execute(
            "UPDATE pool_members SET left_at = ?, stake = 0 WHERE pool_id = ? AND agent = ?",
            (at, pool_id, agent),
        )

    def add_contribution(self, pool_id: str, agent: str, amount: int) -> None:
        """A contribution: to what the member ever put in, and to its stake."""
        self._db.execute(
            "UPDATE pool_members SET contributed = contributed + ?, stake = stake + ? "
            "WHERE pool_id = ? AND agent = ?",
            (amount, amount, pool_id, agent),
        )

    def set_contribution(self, pool_id: str, agent: str, contributed: int) -> None:
        self._db.execute(
            "UPDATE pool_members SET contributed = ? WHERE pool_id = ? AND agent = ?",
            (contributed, pool_id, agent),
        )

    def set_stake(self, pool_id: str, agent: str, stake: int) -> None:
        self._db.execute(
            "UPDATE pool_members SET stake = ? WHERE pool_id = ? AND agent = ?",
            (stake, pool_id, agent),
        )

    def backfill_stakes(self) -> None:
        """Migration 5: each member of a pool made before stakes gets the pool's balance
        in proportion to what it contributed, the stakes summing to the balance exactly
        (a dissolved pool holds nothing, so its stakes are 0)."""
        for pool in self.all():
            if pool.dissolved_at is not None:
                continue
            row = self._db.one("SELECT balance FROM accounts WHERE name = ?",
                               (pool_account(pool.id),))
            held = int(row[0]) if row else 0
            members = {m.agent: m.contributed for m in self.members(pool.id)}
            for agent, stake in stakes_from_contributions(held, members).items():
                self.set_stake(pool.id, agent, stake)

    def stake_sums(self) -> dict[str, int]:
        """pool id -> the sum of its members' stakes."""
        return {p: int(s) for p, s in self._db.all(
            "SELECT pool_id, SUM(stake) FROM pool_members GROUP BY pool_id")}

    # -- draws (credits) ------------------------------------------------------------------

    def record_credit(self, seq: int, agent: str, stake: int, credited: int, *,
                      consumed: bool = False) -> None:
        self._db.execute(
            "INSERT INTO pool_credits (transfer_seq, agent, stake, credited, consumed) "
            "VALUES (?, ?, ?, ?, ?)",
            (seq, agent, stake, credited, int(consumed)),
        )

    def credits(self, pool_id: str) -> list[PoolCreditRow]:
        """Every credit of a pool's spends, by transfer seq and agent."""
        return [
            PoolCreditRow(int(s), a, int(st), int(cr), bool(co))
            for s, a, st, cr, co in self._db.all(
                "SELECT c.transfer_seq, c.agent, c.stake, c.credited, c.consumed "
                "FROM pool_credits c JOIN transfers t ON t.seq = c.transfer_seq "
                "WHERE t.pool_id = ? ORDER BY c.transfer_seq, c.agent",
                (pool_id,),
            )
        ]

    def all_credits(self) -> list[PoolCreditRow]:
        """Every credit of every pool, by transfer seq and agent (by code point)."""
        return sorted((
            PoolCreditRow(int(s), a, int(st), int(cr), bool(co))
            for s, a, st, cr, co in self._db.all(
                "SELECT transfer_seq, agent, stake, credited, consumed FROM pool_credits")
        ), key=lambda c: (c.seq, c.agent))
