"""A ledger image: every row an exchange holds, in a fixed order, as plain data.

``read_image`` takes one from a store (what ``export`` writes); ``load_image`` writes
one into an empty store (what ``import`` does, called only from ``exchange.py`` inside
its transaction). Derived rows — cached balances, pool contributions, consumption
windows — are rebuilt from the transfers on load, and the image's own figures are
checked against them, so a hand-edited file cannot smuggle in a balance.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..economy.accounts import INFERENCE, Kind
from ..errors import InvalidInput
from ..money import format_amount
from .chain import GENESIS, HASHED_FIELDS, transfer_hash
from .store import PoolRow, RefusalRow, Store, Transfer


@dataclass(frozen=True)
class AccountRow:
    name: str
    kind: str
    created_at: int
    balance: int
    earned: int
    spent: int


# A pool in an image is the same row the store keeps.
PoolImageRow = PoolRow


@dataclass(frozen=True)
class PoolMemberRow:
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


@dataclass(frozen=True)
class IdempotencyRow:
    key: str
    request_hash: str
    outcome: str
    result: dict[str, Any]
    first_seq: int | None
    created_at: int


@dataclass(frozen=True)
class LedgerImage:
    """Everything an exchange holds. ``complete`` is False for a filtered export, which
    is for reading only: it cannot be imported."""

    accounts: list[AccountRow] = field(default_factory=list)
    transfers: list[Transfer] = field(default_factory=list)
    pools: list[PoolImageRow] = field(default_factory=list)
    pool_members: list[PoolMemberRow] = field(default_factory=list)
    pool_credits: list[PoolCreditRow] = field(default_factory=list)
    refusals: list[RefusalRow] = field(default_factory=list)
    idempotency: list[IdempotencyRow] = field(default_factory=list)
    complete: bool = True
    since: int | None = None
    agent: str | None = None


def read_image(store: Store, *, since: int | None = None, agent: str | None = None) -> LedgerImage:
    """Read every row (or those at/after ``since`` and touching ``agent``), in order.
    The caller holds a snapshot. Text keys are sorted here, by code point, rather than by
    the database's collation, so every backend writes the same export."""
    wallet = f"agent:{agent}" if agent else None
    accounts = sorted((
        AccountRow(n, k, int(c), int(b), int(e), int(s))
        for n, k, c, b, e, s in store._all(
            "SELECT name, kind, created_at, balance, earned, spent FROM accounts")
        if wallet is None or n == wallet
    ), key=lambda a: a.name)
    transfers = [
        t for t in store.transfers()
        if (since is None or t.at >= since)
        and (wallet is None or wallet in (t.source, t.destination))
    ]
    members = [
        PoolMemberRow(p, a, int(j), int(c))
        for _, p, a, j, c in sorted(store._all(
            "SELECT p.number, m.pool_id, m.agent, m.joined_at, m.contributed "
            "FROM pool_members m JOIN pools p ON p.id = m.pool_id"),
            key=lambda row: (int(row[0]), int(row[3]), row[2]))
    ]
    if agent is not None:
        mine = {m.pool_id for m in members if m.agent == agent}
        members = [m for m in members if m.pool_id in mine]
    else:
        mine = None
    pools = [
        PoolImageRow(i, int(n), nm, cr, int(mc), int(c), None if d is None else int(d))
        for i, n, nm, cr, mc, c, d in store._all(
            "SELECT id, number, name, creator, min_contribution, created_at, dissolved_at "
            "FROM pools ORDER BY number")
        if (mine is None or i in mine) and (since is None or int(c) >= since)
    ]
    kept = {p.id for p in pools}
    members = [m for m in members if m.pool_id in kept]
    kept_seqs = {t.seq for t in transfers}
    credits = sorted((
        PoolCreditRow(int(s), a, int(c), int(cr))
        for s, a, c, cr in store._all(
            "SELECT transfer_seq, agent, contributed, credited FROM pool_credits")
        if int(s) in kept_seqs and (agent is None or a == agent)
    ), key=lambda c: (c.seq, c.agent))
    refusals = [
        RefusalRow(*row)
        for row in store._all(
            "SELECT seq, at, agent, pool_id, operation, code, message, amount FROM refusals "
            "ORDER BY seq")
        if (since is None or row[1] >= since) and (agent is None or row[2] == agent)
    ]
    idempotency = [] if agent is not None else sorted((
        IdempotencyRow(k, h, o, json.loads(r), None if f is None else int(f), int(c))
        for k, h, o, r, f, c in store._all(
            "SELECT key, request_hash, outcome, result, first_seq, created_at FROM idempotency")
        if since is None or int(c) >= since
    ), key=lambda r: r.key)
    return LedgerImage(accounts, transfers, pools, members, credits, refusals, idempotency,
                       complete=since is None and agent is None, since=since, agent=agent)


def ledger_is_empty(store: Store) -> tuple[bool, str]:
    """Whether nothing has been written yet, and if not, what is there."""
    for table, what in (("transfers", "transfers"), ("pools", "pools"),
                        ("refusals", "refusals"), ("idempotency", "idempotency keys"),
                        ("accounts", "accounts")):
        row = store._one(f"SELECT COUNT(*) FROM {table}")
        count = int(row[0]) if row else 0
        if count:
            return False, f"{count} {what}"
    return True, ""


def load_image(store: Store, image: LedgerImage) -> str:
    """Write an image into an empty store, keeping every seq number and time; returns the
    head hash. Raises InvalidInput (the caller's transaction then rolls back) when the
    image does not hold together: a hash that does not chain, a figure its transfers do
    not give, a reference to something absent."""
    if not image.complete:
        raise InvalidInput("this export was filtered (--since/--agent): only a full export "
                           "can be imported")
    _check_references(image)
    for account in image.accounts:
        store._execute("INSERT INTO accounts (name, kind, created_at) VALUES (?, ?, ?)",
                       (account.name, account.kind, account.created_at))
    for pool in image.pools:
        store.create_pool(pool.id, pool.number, pool.name, pool.creator,
                          pool.min_contribution, pool.created_at)
        if pool.dissolved_at is not None:
            store.mark_pool_dissolved(pool.id, pool.dissolved_at)
    previous, expected = GENESIS, 1
    for transfer in image.transfers:
        if transfer.seq != expected:
            raise InvalidInput(f"transfers must be numbered 1, 2, 3 … with no gaps; "
                               f"expected #{expected}, found #{transfer.seq}")
        fields = {name: getattr(transfer, name) for name in HASHED_FIELDS}
        digest = transfer_hash(previous, fields)
        if transfer.hash is not None and transfer.hash != digest:
            raise InvalidInput(f"transfer #{transfer.seq} does not match its hash: the file "
                               "was edited after it was exported")
        store._append_transfer(fields, digest)
        store._move_balances(Kind(transfer.kind), transfer.source, transfer.destination,
                             transfer.amount)
        previous, expected = digest, expected + 1
    for member in image.pool_members:
        store.add_pool_member(member.pool_id, member.agent, member.joined_at)
        store.set_contribution(member.pool_id, member.agent, member.contributed)
    for credit in image.pool_credits:
        store.record_pool_credit(credit.seq, credit.agent, credit.contributed, credit.credited)
    for refusal in image.refusals:
        store._execute(
            "INSERT INTO refusals (seq, at, agent, pool_id, operation, code, message, amount) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (refusal.seq, refusal.at, refusal.agent, refusal.pool_id, refusal.operation,
             refusal.code, refusal.message, refusal.amount))
    for record in image.idempotency:
        store.save_idempotency(record.key, record.request_hash, record.outcome, record.result,
                               record.first_seq, record.created_at)
    _rebuild_windows(store, image.transfers)
    _check_figures(store, image.accounts)
    store.restart_numbering()
    return previous


def _check_references(image: LedgerImage) -> None:
    """Every name a row points at is in the image (a clear message, not a key violation)."""
    accounts = {a.name for a in image.accounts}
    if len(accounts) != len(image.accounts):
        raise InvalidInput("the file lists an account twice")
    pools = {p.id for p in image.pools}
    for t in image.transfers:
        for name in (t.source, t.destination):
            if name not in accounts:
                raise InvalidInput(f"transfer #{t.seq} names account {name!r}, which the file "
                                   "does not list")
        if t.source == t.destination or t.amount <= 0:
            raise InvalidInput(f"transfer #{t.seq} must move a positive amount between two "
                               "different accounts")
        if t.pool_id is not None and t.pool_id not in pools:
            raise InvalidInput(f"transfer #{t.seq} names pool {t.pool_id!r}, which the file "
                               "does not list")
    for m in image.pool_members:
        if m.pool_id not in pools:
            raise InvalidInput(f"member {m.agent} of {m.pool_id!r}: no such pool in the file")
    seqs = {t.seq for t in image.transfers}
    for c in image.pool_credits:
        if c.seq not in seqs:
            raise InvalidInput(f"a pool credit names transfer #{c.seq}, which the file lacks")
    for r in image.idempotency:
        if r.first_seq is not None and r.first_seq not in seqs:
            raise InvalidInput(f"idempotency key {r.key!r} names transfer #{r.first_seq}, "
                               "which the file lacks")


def _rebuild_windows(store: Store, transfers: list[Transfer]) -> None:
    spends: dict[str, list[tuple[int, int, int]]] = {}
    for t in transfers:
        if t.kind == Kind.INFERENCE.value and t.destination == INFERENCE:
            spends.setdefault(t.source.removeprefix("agent:"), []).append((t.seq, t.at, t.amount))
    for agent, rows in sorted(spends.items()):
        store.rebuild_consumption(agent, rows)


def _check_figures(store: Store, accounts: list[AccountRow]) -> None:
    """The image's stated balances must be what its transfers give."""
    for account in accounts:
        held = store.account(account.name)
        assert held is not None
        stated = (account.balance, account.earned, account.spent)
        derived = (held.balance, held.earned, held.spent)
        if derived != stated:
            raise InvalidInput(
                f"account {account.name}: the file states balance/earned/spent "
                f"{'/'.join(map(format_amount, stated))} but its transfers give "
                f"{'/'.join(map(format_amount, derived))}; nothing was imported")
