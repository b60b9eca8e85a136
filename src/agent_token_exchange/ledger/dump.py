"""A ledger dump: everything an exchange holds, in a fixed order, as plain data.

Transfers and refusals are the records the service returns (``LedgerTransfer``,
``RefusalEvent``: ``Decimal`` tokens); accounts, pools, members, credits, idempotency
keys, gateway reservations, the credit market's offers, loans and futures (see
``market_image.py``) and staking and governance's records (``governance_image.py``),
which no public record shows whole, are the ledger's own rows.

``read_image`` takes one from a store (what ``export`` writes); ``load_image`` writes
one into an empty store (what ``import`` does: ``service/lifecycle.py`` calls it inside
the one transaction it opens for the import). Derived rows — cached balances,
consumption windows — are rebuilt from the transfers (and pool draws) on load, and the
image's own figures are checked against them, so a hand-edited file cannot smuggle in a
balance. Every row is read and written through the store's repositories.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..economy.accounts import INFERENCE, Kind
from ..economy.records import LedgerTransfer, RefusalEvent
from ..errors import InvalidInput
from ..money import format_amount
from .accounts import MAX_LEDGER_INT, AccountRow
from .chain import GENESIS, HASHED_FIELDS, transfer_hash
from .futures import FutureRow
from .governance_image import (
    GOVERNANCE_TABLES,
    ChangeRow,
    ProposalRow,
    ProposalStakeRow,
    StakeRow,
    UnbondingRow,
    VoteRow,
    check_governance_references,
    check_stake_escrows,
    read_governance,
    restore_governance,
)
from .idempotency import IdempotencyRow
from .loans import LoanRow, OfferRow
from .market_image import (
    MARKET_TABLES,
    check_market_escrows,
    check_market_references,
    read_market,
    restore_market,
)
from .pools import PoolCreditRow, PoolInviteRow, PoolMemberRow, PoolRow
from .refusals import refusal_event, refusal_row
from .reservations import ReservationRow
from .store import Store
from .transfers import Transfer, transfer_record, transfer_row

# A pool in an image is the same row the store keeps.
PoolImageRow = PoolRow


@dataclass(frozen=True)
class LedgerImage:
    """Everything an exchange holds. ``complete`` is False for a filtered export, which
    is for reading only: it cannot be imported."""

    accounts: list[AccountRow] = field(default_factory=list)
    transfers: list[LedgerTransfer] = field(default_factory=list)
    pools: list[PoolImageRow] = field(default_factory=list)
    pool_members: list[PoolMemberRow] = field(default_factory=list)
    pool_credits: list[PoolCreditRow] = field(default_factory=list)
    refusals: list[RefusalEvent] = field(default_factory=list)
    idempotency: list[IdempotencyRow] = field(default_factory=list)
    pool_invites: list[PoolInviteRow] = field(default_factory=list)
    reservations: list[ReservationRow] = field(default_factory=list)
    loan_offers: list[OfferRow] = field(default_factory=list)
    loans: list[LoanRow] = field(default_factory=list)
    futures: list[FutureRow] = field(default_factory=list)
    stakes: list[StakeRow] = field(default_factory=list)
    unbondings: list[UnbondingRow] = field(default_factory=list)
    proposals: list[ProposalRow] = field(default_factory=list)
    proposal_stakes: list[ProposalStakeRow] = field(default_factory=list)
    votes: list[VoteRow] = field(default_factory=list)
    parameter_changes: list[ChangeRow] = field(default_factory=list)
    complete: bool = True
    since: int | None = None
    agent: str | None = None


def read_image(store: Store, *, since: int | None = None, agent: str | None = None) -> LedgerImage:
    """Read every row (or those at/after ``since`` and touching ``agent``), in order.
    The caller holds a snapshot. Text keys are sorted by code point rather than by the
    database's collation, so every backend writes the same export."""
    wallet = f"agent:{agent}" if agent else None
    accounts = [a for a in store.accounts.rows() if wallet is None or a.name == wallet]
    transfers = [transfer_record(t) for t in store.transfers.after(0, account=wallet)
                 if since is None or t.at >= since]
    members = store.pools.all_members()
    mine = None if agent is None else {m.pool_id for m in members if m.agent == agent}
    pools = [p for p in store.pools.all()
             if (mine is None or p.id in mine) and (since is None or p.created_at >= since)]
    kept = {p.id for p in pools}
    members = [m for m in members if m.pool_id in kept]
    invites = [i for i in store.pools.all_invites()
               if i.pool_id in kept and (agent is None or i.agent == agent)]
    kept_seqs = {t.seq for t in transfers}
    credits = [c for c in store.pools.all_credits()
               if c.seq in kept_seqs and (agent is None or c.agent == agent)]
    refusals = [refusal_event(r) for r in store.refusals.after(0, agent=agent)
                if since is None or r.at >= since]
    idempotency = [] if agent is not None else [
        r for r in store.idempotency.all() if since is None or r.created_at >= since]
    reservations = [r for r in store.reservations.all()
                    if (agent is None or r.agent == agent)
                    and (since is None or r.reserved_at >= since)]
    return LedgerImage(accounts, transfers, pools, members, credits, refusals, idempotency,
                       invites, reservations, **read_market(store, since=since, agent=agent),
                       **read_governance(store, since=since, agent=agent),
                       complete=since is None and agent is None,
                       since=since, agent=agent)


def load_image(store: Store, image: LedgerImage) -> str:
    """Write an image into an empty store, keeping every seq number and time; returns the
    head hash. Raises InvalidInput (the caller's transaction then rolls back) when the
    image does not hold together: a hash that does not chain, a figure its transfers do
    not give, a reference to something absent."""
    if not image.complete:
        raise InvalidInput("this export was filtered (--since/--agent): only a full export "
                           "can be imported")
    _check_references(image)
    check_market_references(_market(image))
    check_governance_references(_governance(image), {t.seq for t in image.transfers})
    for account in image.accounts:
        store.accounts.create(account.name, account.kind, account.created_at)
    for pool in image.pools:
        store.pools.create(pool.id, pool.number, pool.name, pool.creator,
                           pool.min_contribution, pool.created_at, is_open=pool.is_open)
        if pool.dissolved_at is not None:
            store.pools.mark_dissolved(pool.id, pool.dissolved_at)
    transfers = [transfer_row(t) for t in image.transfers]
    previous, expected = GENESIS, 1
    for transfer in transfers:
        if transfer.seq != expected:
            raise InvalidInput(f"transfers must be numbered 1, 2, 3 … with no gaps; "
                               f"expected #{expected}, found #{transfer.seq}")
        fields = {name: getattr(transfer, name) for name in HASHED_FIELDS}
        digest = transfer_hash(previous, fields)
        if transfer.hash is not None and transfer.hash != digest:
            raise InvalidInput(f"transfer #{transfer.seq} does not match its hash: the file "
                               "was edited after it was exported")
        store.transfers.append(fields, digest)
        store.accounts.move(transfer.kind, transfer.source, transfer.destination,
                            transfer.amount)
        previous, expected = digest, expected + 1
    for member in image.pool_members:
        store.pools.restore_member(member)
    for invite in image.pool_invites:
        store.pools.invite(invite.pool_id, invite.agent, invite.invited_at)
    for credit in image.pool_credits:
        store.pools.record_credit(credit.seq, credit.agent, credit.stake, credit.credited,
                                  consumed=credit.consumed)
    for refusal in image.refusals:
        store.refusals.insert(refusal_row(refusal))
    for record in image.idempotency:
        store.idempotency.save(record.key, record.request_hash, record.outcome,
                               record.result, record.first_seq, record.created_at)
    for reservation in image.reservations:
        store.reservations.restore(reservation)
    restore_market(store, _market(image))
    restore_governance(store, _governance(image))
    _rebuild_windows(store, transfers, image.pool_credits)
    _check_figures(store, image.accounts)
    _check_holds(store, image.accounts)
    check_market_escrows(_market(image), image.accounts)
    check_stake_escrows(_governance(image), image.accounts)
    store.restart_numbering()
    return previous


def _market(image: LedgerImage) -> dict[str, list[Any]]:
    return {section: getattr(image, section) for section in MARKET_TABLES}


def _governance(image: LedgerImage) -> dict[str, list[Any]]:
    return {section: getattr(image, section) for section in GOVERNANCE_TABLES}


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
    for i in image.pool_invites:
        if i.pool_id not in pools:
            raise InvalidInput(f"invite of {i.agent} to {i.pool_id!r}: no such pool in the file")
    seqs = {t.seq for t in image.transfers}
    for c in image.pool_credits:
        if c.seq not in seqs:
            raise InvalidInput(f"a pool credit names transfer #{c.seq}, which the file lacks")
    for r in image.idempotency:
        if r.first_seq is not None and r.first_seq not in seqs:
            raise InvalidInput(f"idempotency key {r.key!r} names transfer #{r.first_seq}, "
                               "which the file lacks")
    for g in image.reservations:
        for seq in (g.hold_seq, g.charge_seq):
            if seq is not None and seq not in seqs:
                raise InvalidInput(f"gateway reservation r{g.id} names transfer #{seq}, "
                                   "which the file lacks")
        if g.pool_id is not None and g.pool_id not in pools:
            raise InvalidInput(f"gateway reservation r{g.id} names pool {g.pool_id!r}, "
                               "which the file does not list")


def _rebuild_windows(store: Store, transfers: list[Transfer],
                     credits: list[PoolCreditRow]) -> None:
    """Each agent's consumption: its inference spends and its draws on pool spends."""
    at_of = {t.seq: t.at for t in transfers}
    rows: list[tuple[int, int, str, int]] = [
        (t.seq, t.at, t.source.removeprefix("agent:"), t.amount) for t in transfers
        if t.kind == Kind.INFERENCE.value and t.destination == INFERENCE]
    rows += [(c.seq, at_of[c.seq], c.agent, c.credited) for c in credits
             if c.consumed and c.credited > 0]
    spends: dict[str, list[tuple[int, int, int]]] = {}
    for seq, at, agent, amount in sorted(rows):
        spends.setdefault(agent, []).append((seq, at, amount))
    for agent, mine in sorted(spends.items()):
        store.windows.rebuild(agent, mine)


def _check_figures(store: Store, accounts: list[AccountRow]) -> None:
    """The image's stated balances must be what its transfers give."""
    for account in accounts:
        held = store.accounts.get(account.name)
        assert held is not None
        stated = (account.balance, account.earned, account.spent)
        derived = (held.balance, held.earned, held.spent)
        if derived != stated:
            raise InvalidInput(
                f"account {account.name}: the file states balance/earned/spent "
                f"{'/'.join(map(format_amount, stated))} but its transfers give "
                f"{'/'.join(map(format_amount, derived))}; nothing was imported")


def _check_holds(store: Store, accounts: list[AccountRow]) -> None:
    """Every hold account must hold exactly its payer's open reservations in the file."""
    open_totals = store.reservations.open_totals()
    for account in accounts:
        if account.name.startswith("hold:"):
            payer = account.name.removeprefix("hold:")
            if account.balance != open_totals.pop(payer, 0):
                raise InvalidInput(
                    f"account {account.name} holds {format_amount(account.balance)} but the "
                    "file's open gateway reservations for it do not add up to that; nothing "
                    "was imported")
    for payer, total in open_totals.items():
        if total:
            raise InvalidInput(f"the file's open gateway reservations hold "
                               f"{format_amount(total)} for {payer}, whose hold account it "
                               "does not list; nothing was imported")


# The dump's vocabulary: the rows an image holds (read by formats/export.py and
# formats/scheme.py, which turn them into files and back).
__all__ = [
    "MAX_LEDGER_INT", "AccountRow", "ChangeRow", "FutureRow", "IdempotencyRow",
    "LedgerImage", "LedgerTransfer", "LoanRow", "OfferRow", "ProposalRow", "ProposalStakeRow",
    "StakeRow", "UnbondingRow", "VoteRow",
    "PoolCreditRow", "PoolImageRow", "PoolInviteRow", "PoolMemberRow", "RefusalEvent",
    "ReservationRow", "Transfer", "load_image", "read_image", "transfer_record",
]
