"""Migrate an exchange kept by the seed's Scheme prototype into a ledger image.

The prototype keeps ``.exchange/wallets/<agent>.wallet``, ``pools.scm`` and
``ledger.scm``. The wallet format is the seed's (an alist)::

    ((tokens . 10000.0) (spent . 150.0) (earned . 450.0)
     (transactions . (((timestamp . 1734912345) (type . earn) (amount . 150)
                       (description . "git commit") (project . "agent-token-exchange")))))

The prototype itself is not available, so what the seed leaves open is decided here:

- Transaction types: ``earn``/``award``/``reward``/``commit`` → an award from the mint,
  ``issue`` → an issue payout, ``spend``/``llm``/``inference`` → inference, and
  ``contribute``/``pool-contribution`` → skipped as transfers (the pool's contributions in
  ``pools.scm`` are moved instead, so nothing is counted twice). Any other type stops the
  migration with a message naming it: nothing is guessed.
- Every wallet's tokens, earned and spent are matched exactly: an opening grant of
  ``tokens - earned + spent`` (the start balance), plus what the wallet says it earned or
  spent beyond its transactions as one transfer each "before the transaction log began".
- ``pools.scm`` is a list of pool alists named as the seed's pool record: ``id``,
  ``name``, ``members``, ``contributions`` (agent → amount), ``total-tokens`` (what the
  pool holds), ``min-contribution``, ``created-at`` (and optionally ``creator``).
  Contributions become transfers at the pool's creation; what was contributed beyond
  ``total-tokens`` becomes one pool spend, credited pro rata.
- ``ledger.scm`` (a list of transaction alists with an ``agent``) is read and matched
  against the wallets' transactions; the wallets hold the balances, so entries that match
  no wallet transaction are listed in the report, not applied.

Times are Unix seconds (exact decimals allowed); amounts are exact decimals or rationals,
rounded half-up to the micro-token only if finer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, DecimalException
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..economy import pool_rules
from ..economy.accounts import INFERENCE, MINT, Kind, figures_moved, pool_account, wallet
from ..economy.validation import NAME_PATTERN
from ..errors import InvalidInput
from ..files import read_text_file
from ..ledger.dump import (
    AccountRow,
    LedgerImage,
    PoolCreditRow,
    PoolImageRow,
    PoolMemberRow,
    Transfer,
    transfer_record,
)
from ..money import MAX_TOKENS, MICRO, display_amount, round_half_up
from .sexpr import Dotted, Symbol, alist_get, read_all, read_one

EARN_TYPES = {"earn": Kind.AWARD, "award": Kind.AWARD, "reward": Kind.AWARD,
              "commit": Kind.AWARD, "issue": Kind.ISSUE}
SPEND_TYPES = {"spend", "llm", "inference"}
CONTRIBUTION_TYPES = {"contribute", "contribution", "pool-contribute", "pool-contribution"}
MAX_FILE_BYTES = 64 * 1024 * 1024
_POOL_ID = re.compile(r"^pool-([1-9][0-9]{0,17})$")


@dataclass(frozen=True)
class SchemeMigration:
    image: LedgerImage
    report: list[str]


@dataclass
class _Txn:
    at: int
    type: str
    amount: int
    description: str
    project: str | None
    model: str | None


@dataclass
class _Wallet:
    agent: str
    source: str
    tokens: int
    earned: int
    spent: int
    transactions: list[_Txn]


@dataclass
class _Pool:
    id: str
    name: str
    creator: str
    members: list[str]
    contributions: dict[str, int]
    holds: int
    min_contribution: int
    created_at: int


def read_scheme_exchange(directory: Path) -> SchemeMigration:
    """Read the prototype's files under ``directory`` (or its ``.exchange/``)."""
    state = directory / ".exchange" if (directory / ".exchange").is_dir() else directory
    wallet_dir = state / "wallets"
    if not wallet_dir.is_dir():
        raise InvalidInput(f"{directory}: no Scheme exchange here (expected "
                           f"{wallet_dir} with <agent>.wallet files)")
    paths = sorted(wallet_dir.glob("*.wallet"))
    if not paths:
        raise InvalidInput(f"{wallet_dir}: no .wallet files")
    wallets = [_read_wallet(path) for path in paths]
    agents = {w.agent for w in wallets}
    pools_path = state / "pools.scm"
    pools = _read_pools(pools_path, agents) if pools_path.exists() else []
    ledger_path = state / "ledger.scm"
    ledger = _read_ledger(ledger_path) if ledger_path.exists() else None
    return _build(wallets, pools, ledger, default_time=_mtime(paths))


# -- reading the files --------------------------------------------------------------------


def _read_file(path: Path) -> str:
    return read_text_file(path, MAX_FILE_BYTES, "a Scheme exchange file")


def _read_wallet(path: Path) -> _Wallet:
    agent = path.stem
    source = f"wallets/{path.name}"
    if not re.match(NAME_PATTERN, agent):
        raise InvalidInput(f"{source}: {agent[:40]!r} is not a valid agent name (lowercase "
                           "letters, digits, - and _)")
    data = read_one(_read_file(path), source)
    entries = alist_get(data, "transactions", source, required=False) or []
    if not isinstance(entries, list):
        raise InvalidInput(f"{source}: transactions must be a list")
    txns = [_read_txn(entry, f"{source}, transaction {i}")
            for i, entry in enumerate(entries, start=1)]
    return _Wallet(agent, source,
                   _micro(alist_get(data, "tokens", source), f"{source}: tokens"),
                   _micro(alist_get(data, "earned", source), f"{source}: earned"),
                   _micro(alist_get(data, "spent", source), f"{source}: spent"), txns)


def _read_txn(entry: Any, where: str) -> _Txn:
    kind = _word(alist_get(entry, "type", where), f"{where}: type")
    if kind not in EARN_TYPES and kind not in SPEND_TYPES and kind not in CONTRIBUTION_TYPES:
        raise InvalidInput(f"{where}: unknown transaction type {kind[:40]!r} (known: "
                           + ", ".join(sorted({*EARN_TYPES, *SPEND_TYPES, *CONTRIBUTION_TYPES}))
                           + "); nothing was imported")
    return _Txn(
        at=_time(alist_get(entry, "timestamp", where), f"{where}: timestamp"),
        type=kind,
        amount=_micro(alist_get(entry, "amount", where), f"{where}: amount"),
        description=_string(alist_get(entry, "description", where, required=False) or "",
                            f"{where}: description"),
        project=_optional_string(alist_get(entry, "project", where, required=False),
                                 f"{where}: project"),
        model=_optional_string(alist_get(entry, "model", where, required=False)
                               or alist_get(entry, "llm", where, required=False),
                               f"{where}: model"),
    )


def _read_pools(path: Path, agents: set[str]) -> list[_Pool]:
    data = read_all(_read_file(path), "pools.scm")
    if len(data) == 1 and isinstance(data[0], list) and all(isinstance(p, list)
                                                             for p in data[0]):
        data = data[0]  # one list of pools, rather than one pool per datum
    pools, numbers = [], set()
    for index, entry in enumerate(data, start=1):
        where = f"pools.scm, pool {index}"
        pool_id = _string(alist_get(entry, "id", where), f"{where}: id")
        match = _POOL_ID.match(pool_id)
        if match is None:
            raise InvalidInput(f"{where}: id {pool_id[:40]!r} is not like pool-123")
        if match.group(1) in numbers:
            raise InvalidInput(f"{where}: {pool_id} appears twice")
        numbers.add(match.group(1))
        members = [_agent_name(m, f"{where}: members", agents)
                   for m in _list(alist_get(entry, "members", where), f"{where}: members")]
        contributions: dict[str, int] = {}
        for item in _list(alist_get(entry, "contributions", where), f"{where}: contributions"):
            if not isinstance(item, Dotted) or len(item.items) != 1:
                raise InvalidInput(f"{where}: contributions must be (agent . amount) pairs")
            agent = _agent_name(item.items[0], f"{where}: contributions", agents)
            contributions[agent] = contributions.get(agent, 0) + _micro(
                item.tail, f"{where}: contribution of {agent}")
        creator_value = alist_get(entry, "creator", where, required=False)
        creator = (_agent_name(creator_value, f"{where}: creator", agents)
                   if creator_value is not None else (members[0] if members else None))
        if creator is None:
            raise InvalidInput(f"{where}: a pool needs members")
        for agent in [creator, *contributions]:
            if agent not in members:
                members.append(agent)
        pools.append(_Pool(
            pool_id, _string(alist_get(entry, "name", where), f"{where}: name"), creator,
            members, contributions,
            _micro(alist_get(entry, "total-tokens", where), f"{where}: total-tokens"),
            _micro(alist_get(entry, "min-contribution", where), f"{where}: min-contribution"),
            _time(alist_get(entry, "created-at", where), f"{where}: created-at"),
        ))
    return pools


def _read_ledger(path: Path) -> list[tuple[str | None, int, str, int]]:
    data = read_all(_read_file(path), "ledger.scm")
    if len(data) == 1 and isinstance(data[0], list) and all(isinstance(e, list)
                                                             for e in data[0]):
        data = data[0]
    out = []
    for index, entry in enumerate(data, start=1):
        where = f"ledger.scm, entry {index}"
        agent = alist_get(entry, "agent", where, required=False)
        out.append((None if agent is None else _word(agent, f"{where}: agent"),
                    _time(alist_get(entry, "timestamp", where), f"{where}: timestamp"),
                    _word(alist_get(entry, "type", where), f"{where}: type"),
                    _micro(alist_get(entry, "amount", where), f"{where}: amount")))
    return out


# -- values -------------------------------------------------------------------------------


def _micro(value: Any, where: str, *, signed: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, Decimal | Fraction | int):
        raise InvalidInput(f"{where} must be a number, got {_shown(value)}")
    try:
        # Compared, not abs(): abs() rounds to the context, and 1e999999999 overflows it.
        if not -MAX_TOKENS * 1000 <= value <= MAX_TOKENS * 1000:
            raise InvalidInput(f"{where} is too large: {_shown(value)}")
        if value < 0 and not signed:
            raise InvalidInput(f"{where} must not be negative: {_shown(value)}")
        if isinstance(value, Fraction):
            return round_half_up(Decimal(value.numerator) * MICRO / Decimal(value.denominator))
        return round_half_up(Decimal(value) * MICRO)
    except DecimalException:  # an overflow, an invalid operation: never a traceback
        raise InvalidInput(f"{where} is not a usable number: {_shown(value)}") from None


def _time(value: Any, where: str) -> int:
    micro = _micro(value, where)
    if micro > 253_402_300_799 * MICRO:  # 9999-12-31
        raise InvalidInput(f"{where} is not a Unix time in seconds: {_shown(value)}")
    return micro


def _string(value: Any, where: str) -> str:
    if isinstance(value, Symbol):
        value = value.name
    if not isinstance(value, str):
        raise InvalidInput(f"{where} must be a string, got {_shown(value)}")
    if len(value) > 10_000:
        raise InvalidInput(f"{where} is too long ({len(value)} characters)")
    return value


def _optional_string(value: Any, where: str) -> str | None:
    if value is None or value == [] or value is False:
        return None
    return _string(value, where) or None


def _word(value: Any, where: str) -> str:
    return _string(value, where).strip().lower()


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidInput(f"{where} must be a list, got {_shown(value)}")
    return value


def _agent_name(value: Any, where: str, agents: set[str]) -> str:
    name = _string(value, where)
    if name not in agents:
        raise InvalidInput(f"{where}: {name[:40]!r} has no wallet file")
    return name


def _shown(value: Any) -> str:
    text = value.name if isinstance(value, Symbol) else str(value)
    return repr(text[:40])


def _mtime(paths: list[Path]) -> int:
    return max(int(p.stat().st_mtime) for p in paths) * MICRO


# -- mapping to transfers -----------------------------------------------------------------


def _build(wallets: list[_Wallet], pools: list[_Pool],
           ledger: list[tuple[str | None, int, str, int]] | None,
           *, default_time: int) -> SchemeMigration:
    times = [t.at for w in wallets for t in w.transactions] + [p.created_at for p in pools]
    opening = min(times) if times else default_time
    closing = max(times) if times else default_time
    contributed: dict[str, int] = {}
    for pool in pools:
        for agent, amount in pool.contributions.items():
            contributed[agent] = contributed.get(agent, 0) + amount
    # (at, phase, order) sorts the history; phase 0 opens wallets, 1 is the history,
    # 2 is what pools spent (their record keeps no times for it).
    events: list[tuple[tuple[int, int, int], dict[str, Any]]] = []
    report = []
    order = 0

    def add(at: int, phase: int, **fields: Any) -> None:
        nonlocal order
        order += 1
        events.append(((at, phase, order), {"at": at, "description": "", "project": None,
                                            "model": None, "pool_id": None, **fields}))

    for w in wallets:
        earned_in_log = sum(t.amount for t in w.transactions if t.type in EARN_TYPES)
        spent_in_log = sum(t.amount for t in w.transactions if t.type in SPEND_TYPES)
        before_earned = w.earned - earned_in_log
        before_spent = w.spent - spent_in_log - contributed.get(w.agent, 0)
        start = w.tokens - w.earned + w.spent
        for figure, value in (("earned", before_earned), ("spent", before_spent),
                              ("tokens - earned + spent", start)):
            if value < 0:
                raise InvalidInput(
                    f"{w.source}: its {figure} does not add up ({display_amount(value)} left "
                    "after its transactions and pool contributions); nothing was imported")
        mine = wallet(w.agent)
        if start:
            add(opening, 0, kind=Kind.GRANT, source=MINT, destination=mine, amount=start,
                description="start balance (migrated from the Scheme exchange)")
        if before_earned:
            add(opening, 0, kind=Kind.AWARD, source=MINT, destination=mine,
                amount=before_earned, description="earned before the transaction log began")
        if before_spent:
            add(opening, 0, kind=Kind.INFERENCE, source=mine, destination=INFERENCE,
                amount=before_spent, description="spent before the transaction log began")
        skipped = 0
        for t in w.transactions:
            text = f"{t.type}: {t.description}" if t.description else t.type
            if t.amount == 0 or t.type in CONTRIBUTION_TYPES:
                skipped += 1
            elif t.type in EARN_TYPES:
                add(t.at, 1, kind=EARN_TYPES[t.type], source=MINT, destination=mine,
                    amount=t.amount, description=text, project=t.project)
            else:
                add(t.at, 1, kind=Kind.INFERENCE, source=mine, destination=INFERENCE,
                    amount=t.amount, description=text, project=t.project, model=t.model)
        report.append(
            f"{w.agent}: {display_amount(w.tokens)} tokens, earned {display_amount(w.earned)}, "
            f"spent {display_amount(w.spent)}; {len(w.transactions):,} "
            f"transaction{'' if len(w.transactions) == 1 else 's'} "
            f"({skipped:,} pool contributions or zero amounts carried by pools.scm instead); "
            f"start balance {display_amount(start)}"
            + (f", {display_amount(before_earned)} earned before the log" if before_earned
               else "")
            + (f", {display_amount(before_spent)} spent before the log" if before_spent else ""))
    pool_rows, members, spends = [], [], []
    for pool in pools:
        match = _POOL_ID.match(pool.id)
        assert match is not None  # every pool id was checked against _POOL_ID when read
        number = int(match.group(1))
        pool_rows.append(PoolImageRow(pool.id, number, pool.name, pool.creator,
                                      pool.min_contribution or 1, pool.created_at, None))
        # Stakes as the ledger's migration 5 gives a pool from before stakes: what it
        # holds, in proportion to what each member put in.
        stakes = pool_rules.stakes_from_contributions(
            pool.holds, {agent: pool.contributions.get(agent, 0) for agent in pool.members})
        for agent in pool.members:
            members.append(PoolMemberRow(pool.id, agent, pool.created_at,
                                         pool.contributions.get(agent, 0), stakes[agent]))
        for agent, amount in pool.contributions.items():
            if amount:
                add(pool.created_at, 1, kind=Kind.POOL_CONTRIBUTION, source=wallet(agent),
                    destination=pool_account(pool.id), amount=amount, pool_id=pool.id,
                    description=f"contribution to {pool.id} ({pool.name})")
        total = sum(pool.contributions.values())
        spent = total - pool.holds
        if spent < 0:
            raise InvalidInput(f"pools.scm: {pool.id} holds {display_amount(pool.holds)} but "
                               f"only {display_amount(total)} was contributed; nothing was "
                               "imported")
        if spent:
            add(max(closing, pool.created_at), 2, kind=Kind.POOL_SPEND,
                source=pool_account(pool.id), destination=INFERENCE, amount=spent,
                pool_id=pool.id, description=f"spent by {pool.id} before the migration")
            spends.append((pool, spent))
        report.append(f"{pool.id} ({pool.name}): {len(pool.members)} members, "
                      f"{display_amount(total)} contributed, {display_amount(spent)} spent, "
                      f"{display_amount(pool.holds)} left")
    transfers = []
    for seq, (_, fields) in enumerate(sorted(events, key=lambda e: e[0]), start=1):
        transfers.append(Transfer(seq=seq, kind=fields.pop("kind").value,
                                  inference_tokens=None, idempotency_key=None, hash=None,
                                  **fields))
    credits = []
    for pool, _ in spends:
        seq = next(t.seq for t in transfers if t.kind == Kind.POOL_SPEND and
                   t.pool_id == pool.id)
        weights = {a: c for a, c in pool.contributions.items() if c > 0}
        shares = pool_rules.largest_remainder_split(
            next(t.amount for t in transfers if t.seq == seq), weights)
        for agent in sorted(weights):
            credits.append(PoolCreditRow(seq, agent, weights[agent], shares[agent]))
    if ledger is not None:
        report.append(_ledger_report(ledger, wallets))
    accounts = _accounts(wallets, pools, transfers, opening)
    image = LedgerImage(accounts, [transfer_record(t) for t in transfers], pool_rows, members,
                        credits, [], [])
    return SchemeMigration(image, report)


def _accounts(wallets: list[_Wallet], pools: list[_Pool], transfers: list[Transfer],
              opening: int) -> list[AccountRow]:
    """Every account with the figures its transfers give (checked again on load)."""
    figures: dict[str, list[int]] = {MINT: [0, 0, 0], INFERENCE: [0, 0, 0]}
    kinds = {MINT: "system", INFERENCE: "system"}
    for w in wallets:
        figures[wallet(w.agent)] = [0, 0, 0]
        kinds[wallet(w.agent)] = "agent"
    for p in pools:
        figures[pool_account(p.id)] = [0, 0, 0]
        kinds[pool_account(p.id)] = "pool"
    for t in transfers:
        source_spent, earned, destination_spent = figures_moved(t.kind, t.amount)
        figures[t.source][0] -= t.amount
        figures[t.source][2] += source_spent
        figures[t.destination][0] += t.amount
        figures[t.destination][1] += earned
        figures[t.destination][2] += destination_spent
    return [AccountRow(name, kinds[name], opening, *figures[name]) for name in sorted(figures)]


def _ledger_report(ledger: list[tuple[str | None, int, str, int]],
                   wallets: list[_Wallet]) -> str:
    known: dict[tuple[str | None, int, str, int], int] = {}
    for w in wallets:
        for t in w.transactions:
            key = (w.agent, t.at, t.type, t.amount)
            known[key] = known.get(key, 0) + 1
    unmatched = []
    for entry in ledger:
        if known.get(entry, 0) > 0:
            known[entry] -= 1
        else:
            unmatched.append(entry)
    line = (f"ledger.scm: {len(ledger)} entries, {len(ledger) - len(unmatched)} match wallet "
            f"transactions")
    if unmatched:
        shown = "; ".join(f"{a or '?'} {t} at {at // MICRO} {display_amount(m)}"
                          for a, at, t, m in unmatched[:10])
        line += (f", {len(unmatched)} match none and were not applied (the wallets hold the "
                 f"balances): {shown}" + (" …" if len(unmatched) > 10 else ""))
    return line
