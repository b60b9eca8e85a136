"""Staking and governance's part of a ledger image: stakes, unbondings, proposals (with
the stake snapshot each was made with), votes and the parameter changes enacted proposals
made, read from and written back into their tables with every id, number and time kept.

Unbondings and parameter changes are numbered by the database (``Store.restart_numbering``
continues after the imported ones on PostgreSQL; SQLite's AUTOINCREMENT does by itself);
proposals take ``MAX(number) + 1``. ``check_governance_references`` refuses rows that point
at nothing; ``check_stake_escrows`` refuses stake and unbonding accounts that disagree with
the records (what doctor's stake check asks).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import astuple, dataclass, fields
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..errors import InvalidInput
from ..money import format_amount
from .governance import ChangeRow, ProposalRow, UnbondingRow

if TYPE_CHECKING:
    from .accounts import AccountRow
    from .store import Store


@dataclass(frozen=True)
class StakeRow:
    """An agent's staked total (what ``stake:NAME`` holds)."""

    agent: str
    staked: int


@dataclass(frozen=True)
class ProposalStakeRow:
    """A staker's stake when a proposal was made: its voting power on it."""

    proposal_id: str
    agent: str
    stake: int


@dataclass(frozen=True)
class VoteRow:
    proposal_id: str
    agent: str
    choice: str
    power: int
    at: int


def _ints(row: tuple, *text: int) -> tuple:
    """A row's columns as ints, but those at the ``text`` positions (and NULLs)."""
    return tuple(v if i in text or v is None else int(v) for i, v in enumerate(row))


def _proposal(row: tuple) -> ProposalRow:
    values = list(_ints(row, 0, 2, 3, 4, 5, 9, 11))
    values[4], values[9] = Decimal(values[4]), Decimal(values[9])
    return ProposalRow(*values)


def _change(row: tuple) -> ChangeRow:
    number, parameter, value, proposal_id, at = row
    return ChangeRow(int(number), parameter, Decimal(value), proposal_id, int(at))


# Each governance section: its table, row type (fields = columns), order and reader.
GOVERNANCE_TABLES: dict[str, tuple[str, type, str, Callable[[tuple], Any]]] = {
    "stakes": ("stakes", StakeRow, "agent", lambda r: StakeRow(*_ints(r, 0))),
    "unbondings": ("unbondings", UnbondingRow, "id",
                   lambda r: UnbondingRow(*_ints(r, 1))),
    "proposals": ("proposals", ProposalRow, "number", _proposal),
    "proposal_stakes": ("proposal_stakes", ProposalStakeRow, "proposal_id, agent",
                        lambda r: ProposalStakeRow(*_ints(r, 0, 1))),
    "votes": ("votes", VoteRow, "proposal_id, agent", lambda r: VoteRow(*_ints(r, 0, 1, 2))),
    "parameter_changes": ("parameter_changes", ChangeRow, "id", _change),
}


def _columns(row_type: type) -> list[str]:
    return [f.name for f in fields(row_type)]


def _read(store: Store, section: str) -> list[Any]:
    table, row_type, order, make = GOVERNANCE_TABLES[section]
    rows = [make(r) for r in store.all(
        f"SELECT {', '.join(_columns(row_type))} FROM {table} ORDER BY {order}")]
    if section in ("stakes", "proposal_stakes", "votes"):
        # text keys by code point, not the database's collation: every backend alike
        rows.sort(key=lambda r: astuple(r)[:2])
    return rows


def read_governance(store: Store, *, since: int | None = None,
                    agent: str | None = None) -> dict[str, list[Any]]:
    """Every governance row (or those made at/after ``since`` that involve ``agent``; a
    stake, a standing total with no time, is kept whatever ``since``)."""
    sections = {section: _read(store, section) for section in GOVERNANCE_TABLES}
    voted = {v.proposal_id for v in sections["votes"] if v.agent == agent}
    proposals = [p for p in sections["proposals"]
                 if (agent is None or p.proposer == agent or p.id in voted)
                 and (since is None or p.created_at >= since)]
    kept = {p.id for p in proposals}

    def mine(row: Any) -> bool:
        return agent is None or row.agent == agent

    return {
        "stakes": [s for s in sections["stakes"] if mine(s)],
        "unbondings": [u for u in sections["unbondings"]
                       if mine(u) and (since is None or u.started_at >= since)],
        "proposals": proposals,
        "proposal_stakes": [s for s in sections["proposal_stakes"]
                            if mine(s) and s.proposal_id in kept],
        "votes": [v for v in sections["votes"] if mine(v) and v.proposal_id in kept
                  and (since is None or v.at >= since)],
        "parameter_changes": [c for c in sections["parameter_changes"]
                              if c.proposal_id in kept
                              and (since is None or c.applied_at >= since)],
    }


def restore_governance(store: Store, sections: dict[str, list[Any]]) -> None:
    """Write the image's governance rows into an empty store, as they are."""
    for section, (table, row_type, _, _) in GOVERNANCE_TABLES.items():
        columns = _columns(row_type)
        sql = (f"INSERT INTO {table} ({', '.join(columns)}) "
               f"VALUES ({', '.join('?' * len(columns))})")
        for row in sections.get(section, []):
            store.execute(sql, tuple(str(v) if isinstance(v, Decimal) else v
                                     for v in astuple(row)))


def check_governance_references(sections: dict[str, list[Any]], seqs: set[int]) -> None:
    """Keys are unique; votes, snapshots and changes name proposals in the file; a vote's
    power is its voter's snapshot; unbondings name transfers the file holds."""
    for section, key in (("stakes", lambda r: r.agent), ("unbondings", lambda r: r.id),
                         ("proposals", lambda r: r.id),
                         ("proposal_stakes", lambda r: (r.proposal_id, r.agent)),
                         ("votes", lambda r: (r.proposal_id, r.agent)),
                         ("parameter_changes", lambda r: r.id)):
        keys = [key(r) for r in sections.get(section, [])]
        if len(set(keys)) != len(keys):
            raise InvalidInput(f"the file lists a {section} record twice; nothing was "
                               "imported")
    numbers = [p.number for p in sections.get("proposals", [])]
    if len(set(numbers)) != len(numbers):
        raise InvalidInput("the file lists a proposal number twice; nothing was imported")
    proposals = {p.id for p in sections.get("proposals", [])}
    power = {(s.proposal_id, s.agent): s.stake for s in sections.get("proposal_stakes", [])}
    for section in ("proposal_stakes", "votes", "parameter_changes"):
        for row in sections.get(section, []):
            if row.proposal_id not in proposals:
                raise InvalidInput(f"a {section} record names proposal {row.proposal_id}, "
                                   "which the file does not list; nothing was imported")
    for vote in sections.get("votes", []):
        if power.get((vote.proposal_id, vote.agent)) != vote.power:
            raise InvalidInput(f"{vote.agent}'s vote on {vote.proposal_id} has power "
                               f"{format_amount(vote.power)}, not its stake when the "
                               "proposal was made; nothing was imported")
    for u in sections.get("unbondings", []):
        for seq in (u.unstake_seq, u.release_seq):
            if seq is not None and seq not in seqs:
                raise InvalidInput(f"unbonding u{u.id} names transfer #{seq}, which the file "
                                   "lacks; nothing was imported")


def check_stake_escrows(sections: dict[str, list[Any]], accounts: list[AccountRow]) -> None:
    """Each stake:NAME account holds the agent's staked total and each unbonding:NAME the
    sum of its unreleased unbondings; none without records holds anything."""
    expected: dict[str, int] = {}
    for stake in sections.get("stakes", []):
        expected[f"stake:{stake.agent}"] = stake.staked
    for u in sections.get("unbondings", []):
        if u.released_at is None:
            name = f"unbonding:{u.agent}"
            expected[name] = expected.get(name, 0) + u.amount
    held = {a.name: a.balance for a in accounts
            if a.name.startswith(("stake:", "unbonding:"))}
    for name in sorted(set(held) | set(expected)):
        if held.get(name, 0) != expected.get(name, 0):
            what = ("staked total" if name.startswith("stake:")
                    else "unreleased unbondings")
            raise InvalidInput(f"{name} holds {format_amount(held.get(name, 0))} but the "
                               f"file's {what} come to {format_amount(expected.get(name, 0))}"
                               "; nothing was imported")


__all__ = ["GOVERNANCE_TABLES", "ChangeRow", "ProposalRow", "ProposalStakeRow", "StakeRow",
           "UnbondingRow", "VoteRow", "check_governance_references", "check_stake_escrows",
           "read_governance", "restore_governance"]
