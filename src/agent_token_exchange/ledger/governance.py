"""Staking and governance: each agent's staked total, unbondings on their way back,
proposals with the stake snapshot taken when each was made, votes, and the parameter
changes enacted proposals made (the effective config is config.toml plus these)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .parameter_changes import ChangeRow, ParameterChanges


@dataclass(frozen=True)
class UnbondingRow:
    id: int
    agent: str
    amount: int
    started_at: int
    release_at: int
    released_at: int | None
    unstake_seq: int | None
    release_seq: int | None


@dataclass(frozen=True)
class ProposalRow:
    id: str
    number: int
    proposer: str
    parameter: str
    value: Decimal
    reason: str
    created_at: int
    voting_ends_at: int
    timelock_us: int
    quorum: Decimal
    total_stake: int
    status: str
    closed_at: int | None
    enacted_at: int | None

    @property
    def effective_at(self) -> int:
        return self.voting_ends_at + self.timelock_us


_UNBONDING = ("id, agent, amount, started_at, release_at, released_at, unstake_seq, "
              "release_seq")
_PROPOSAL = ("id, number, proposer, parameter, value, reason, created_at, voting_ends_at, "
             "timelock_us, quorum, total_stake, status, closed_at, enacted_at")


def _unbonding(row: tuple) -> UnbondingRow:
    return UnbondingRow(int(row[0]), row[1], int(row[2]), int(row[3]), int(row[4]),
                        *(None if v is None else int(v) for v in row[5:]))


def _proposal(row: tuple) -> ProposalRow:
    (pid, number, proposer, parameter, value, reason, created, ends, timelock, quorum,
     total, status, closed, enacted) = row
    return ProposalRow(pid, int(number), proposer, parameter, Decimal(value), reason,
                       int(created), int(ends), int(timelock), Decimal(quorum), int(total),
                       status, None if closed is None else int(closed),
                       None if enacted is None else int(enacted))


class Governance(ParameterChanges):
    """The ``stakes``, ``unbondings``, ``proposals``, ``proposal_stakes`` and ``votes``
    tables, with the ``parameter_changes`` enacted proposals made (``ParameterChanges``)."""

    # -- stakes ---------------------------------------------------------------------------

    def staked(self, agent: str) -> int:
        return self._db.number("SELECT staked FROM stakes WHERE agent = ?", (agent,))

    def all_stakes(self) -> dict[str, int]:
        return {a: int(s) for a, s in self._db.all("SELECT agent, staked FROM stakes")}

    def add_stake(self, agent: str, amount: int) -> None:
        """Add ``amount`` (negative: take it away) to the agent's staked total."""
        self._db.execute("INSERT INTO stakes (agent, staked) VALUES (?, 0) "
                         "ON CONFLICT (agent) DO NOTHING", (agent,))
        self._db.execute("UPDATE stakes SET staked = staked + ? WHERE agent = ?",
                         (amount, agent))

    # -- unbondings -----------------------------------------------------------------------

    def start_unbonding(self, agent: str, amount: int, at: int, release_at: int,
                        seq: int) -> None:
        self._db.execute(
            "INSERT INTO unbondings (agent, amount, started_at, release_at, unstake_seq) "
            "VALUES (?, ?, ?, ?, ?)", (agent, amount, at, release_at, seq))

    def pending(self, agent: str | None = None) -> list[UnbondingRow]:
        """Unbondings not yet released (an agent's, or everyone's), oldest first."""
        where, params = ("", ()) if agent is None else (" AND agent = ?", (agent,))
        rows = self._db.all(f"SELECT {_UNBONDING} FROM unbondings WHERE released_at IS NULL"
                            f"{where} ORDER BY release_at, id", params)
        return [_unbonding(r) for r in rows]

    def pending_sums(self) -> dict[str, int]:
        """agent -> what its unreleased unbondings hold."""
        return {a: int(s) for a, s in self._db.all(
            "SELECT agent, SUM(amount) FROM unbondings WHERE released_at IS NULL "
            "GROUP BY agent")}

    def due_unbondings(self, now: int) -> list[UnbondingRow]:
        rows = self._db.all(f"SELECT {_UNBONDING} FROM unbondings WHERE released_at IS NULL "
                            "AND release_at <= ? ORDER BY release_at, id", (now,))
        return [_unbonding(r) for r in rows]

    def any_unbonding_due(self, now: int) -> bool:
        return self._db.one("SELECT 1 FROM unbondings WHERE released_at IS NULL AND "
                            "release_at <= ? LIMIT 1", (now,)) is not None

    def mark_released(self, unbonding_id: int, at: int, seq: int) -> bool:
        """Mark one released; False if another writer already did."""
        cursor = self._db.execute(
            "UPDATE unbondings SET released_at = ?, release_seq = ? "
            "WHERE id = ? AND released_at IS NULL", (at, seq, unbonding_id))
        return bool(cursor.rowcount == 1)

    # -- proposals ------------------------------------------------------------------------

    def next_number(self) -> int:
        return self._db.number("SELECT COALESCE(MAX(number), 0) + 1 FROM proposals")

    def create_proposal(self, row: ProposalRow) -> None:
        self._db.execute(
            f"INSERT INTO proposals ({_PROPOSAL}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "?, ?)",
            (row.id, row.number, row.proposer, row.parameter, str(row.value), row.reason,
             row.created_at, row.voting_ends_at, row.timelock_us, str(row.quorum),
             row.total_stake, row.status, row.closed_at, row.enacted_at))

    def snapshot_stakes(self, proposal_id: str, stakes: dict[str, int]) -> None:
        """Keep every staker's stake as read when the proposal was made: its voting power."""
        for agent, stake in sorted(stakes.items()):
            self._db.execute("INSERT INTO proposal_stakes (proposal_id, agent, stake) "
                             "VALUES (?, ?, ?)", (proposal_id, agent, stake))

    def power(self, proposal_id: str, agent: str) -> int:
        return self._db.number(
            "SELECT stake FROM proposal_stakes WHERE proposal_id = ? AND agent = ?",
            (proposal_id, agent))

    def proposal(self, proposal_id: str, *, lock: bool = False) -> ProposalRow | None:
        """One proposal; with ``lock``, its row held until the transaction ends (a vote
        and the close of its vote never interleave)."""
        row = self._db.one(f"SELECT {_PROPOSAL} FROM proposals WHERE id = ?"
                           + (self._db.LOCK_ROW if lock else ""), (proposal_id,))
        return _proposal(row) if row else None

    def proposals(self) -> list[ProposalRow]:
        return [_proposal(r) for r in
                self._db.all(f"SELECT {_PROPOSAL} FROM proposals ORDER BY number")]

    def closing_due(self, now: int) -> list[str]:
        """Proposals whose vote has ended but which are still open, oldest first."""
        return [p for (p,) in self._db.all(
            "SELECT id FROM proposals WHERE status = 'voting' AND voting_ends_at <= ? "
            "ORDER BY number", (now,))]

    def enacting_due(self, now: int) -> list[str]:
        """Passed proposals whose timelock has ended, in the order they take effect."""
        return [p for (p,) in self._db.all(
            "SELECT id FROM proposals WHERE status = 'passed' AND "
            "voting_ends_at + timelock_us <= ? ORDER BY voting_ends_at + timelock_us, number",
            (now,))]

    def any_due(self, now: int) -> bool:
        return self._db.one(
            "SELECT 1 FROM proposals WHERE (status = 'voting' AND voting_ends_at <= ?) OR "
            "(status = 'passed' AND voting_ends_at + timelock_us <= ?) LIMIT 1",
            (now, now)) is not None

    def set_status(self, proposal_id: str, status: str, *, closed_at: int | None = None,
                   enacted_at: int | None = None) -> None:
        self._db.execute(
            "UPDATE proposals SET status = ?, closed_at = COALESCE(?, closed_at), "
            "enacted_at = COALESCE(?, enacted_at) WHERE id = ?",
            (status, closed_at, enacted_at, proposal_id))

    # -- votes ----------------------------------------------------------------------------

    def cast(self, proposal_id: str, agent: str, choice: str, power: int, at: int) -> None:
        """Record a vote; a second vote by the same agent replaces its first."""
        self._db.execute(
            "INSERT INTO votes (proposal_id, agent, choice, power, at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (proposal_id, agent) DO UPDATE SET choice = excluded.choice, "
            "at = excluded.at", (proposal_id, agent, choice, power, at))

    def votes(self, proposal_id: str) -> list[tuple[str, str, int, int]]:
        """(agent, choice, power, at) for each vote, by agent."""
        return [(a, c, int(p), int(at)) for a, c, p, at in self._db.all(
            "SELECT agent, choice, power, at FROM votes WHERE proposal_id = ? ORDER BY agent",
            (proposal_id,))]


__all__ = ["ChangeRow", "Governance", "ProposalRow", "UnbondingRow"]
